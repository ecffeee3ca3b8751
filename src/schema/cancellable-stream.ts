/**
 * A subscription's event source that stops its upstream work the moment the client leaves.
 *
 * Transports end a subscription by calling the iterator's `return()`. On an async generator that
 * call waits behind any pending `next()`, so a generator waiting on a model's next token would keep
 * the model streaming (and billing) until that token came. Here `return()` first aborts the signal
 * the source was opened with, which ends the upstream request, and then closes the source.
 */
export function cancellableStream<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  /** The request's own signal (an HTTP client disconnecting); it cancels the stream too. */
  requestSignal?: AbortSignal,
): AsyncIterableIterator<T> {
  const controller = new AbortController();
  const cancel = () => controller.abort(requestSignal?.reason ?? new Error('The client left the stream.'));
  requestSignal?.addEventListener('abort', cancel, { once: true });
  if (requestSignal?.aborted) cancel();
  const release = () => requestSignal?.removeEventListener('abort', cancel);
  const source = open(controller.signal)[Symbol.asyncIterator]();

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const result = await source.next();
        if (result.done) release();
        return result;
      } catch (error) {
        release();
        throw error;
      }
    },
    async return(value?: unknown) {
      cancel();
      release();
      await source.return?.();
      return { done: true, value: value as T };
    },
  };
}

/**
 * The promise's outcome, or the signal's reason as soon as it aborts: for work that does not
 * listen to the signal itself (a plugin, cockatiel's wait between retries).
 */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  pending.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Why an operation's signal aborted when its client went away (a closed connection, an
 * unsubscribe): nobody is left to answer, so it is no defect, and is logged as such.
 */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  constructor() {
    super('The client went away before its operation ended.');
  }
}

/**
 * A Node AbortSignal that aborts, with a ClientGoneError, when the request's `signal` does.
 * Yoga's HTTP requests carry a lazy signal of @whatwg-node/server's own class, dressed as an
 * AbortSignal (even `instanceof` says yes), which Node 24's `AbortSignal.any` refuses:
 * "signals[1] is not of type AbortSignal".
 */
export function nativeSignal(signal: AbortSignal): AbortSignal {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(new ClientGoneError());
  else signal.addEventListener('abort', () => controller.abort(new ClientGoneError()), { once: true });
  return controller.signal;
}

/** A signal that aborts when its parent does, or when its time is up. */
export interface Deadline {
  signal: AbortSignal;
  /** Whether the time ran out (rather than the parent aborting). */
  timedOut(): boolean;
  /** Stops the clock and lets go of the parent; call it when the work is done. */
  release(): void;
  /** Ends the work early, for a reason of the caller's (a refused request's calls in flight). */
  abort(reason: unknown): void;
}

/**
 * What `AbortSignal.any([parent, AbortSignal.timeout(ms)])` gives, for work that ends before its
 * deadline as a rule (one plugin step of a search). Profiled on Node 20, that pair tracked its
 * signals through weak references and was the largest cost of a search's own code: about 25 µs
 * per step, plus the garbage it leaves.
 */
export function deadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`The operation timed out after ${ms} ms.`, 'TimeoutError'));
  }, ms);
  // Like AbortSignal.timeout's, the clock alone keeps no process alive.
  timer.unref();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    release: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
    abort: (reason) => controller.abort(reason),
  };
}

/**
 * What the OpenAI and Cohere chat models share behind the `ChatModel` port: the caller's abort,
 * an idle timeout on the vendor's stream, failures as UPSTREAM_FAILED, and usage estimated when
 * the vendor reports none. Each adapter supplies only how to open its stream and read its events.
 */
import { UpstreamError } from '../errors.ts';
import type { ChatModel, ChatPricing, ChatRequest, ChatStreamPart, TokenUsage } from '../ports.ts';
import { estimateUsage } from '../text/token-count.ts';
import { chatModelFacts } from './model-catalog.ts';

/** Who answers: for messages and error details. */
export interface ChatModelName {
  /** As users read it, e.g. `OpenAI`. */
  vendor: string;
  provider: string;
  modelId: string;
}

/** What one vendor event carries for the port. */
export interface UpstreamEventReading {
  text?: string;
  usage?: TokenUsage;
}

export interface UpstreamChat<Event> {
  model: ChatModelName;
  /** Tokens of prompt plus answer the model accepts. @default the catalog's, else 8192 */
  contextWindow?: number | undefined;
  /** List prices. @default the catalog's, else null (unknown) */
  pricing?: ChatPricing | null | undefined;
  /** Longest wait for the response to start or for its next event, in milliseconds. @default `defaultIdleTimeoutMs` */
  idleTimeoutMs?: number | undefined;
  /** Sends the request; resolves to the vendor's events once the response has started. */
  open(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<Event>>;
  /** What one event carries; throws when the event reports an error in the stream. */
  read(event: Event): UpstreamEventReading;
  /** The HTTP response behind one of the SDK's errors, when there was one. */
  responseOf(error: unknown): UpstreamResponse | undefined;
}

/** What an SDK error says of the vendor's HTTP response. */
export interface UpstreamResponse {
  status: number | undefined;
  headers: Headers | undefined;
}

/** Longest wait for a chat response to start or continue when the server's configuration does not say. */
export const defaultIdleTimeoutMs = 60_000;

/** A chat model that streams from a vendor's API, as `upstream` opens and reads it. */
export function createUpstreamChatModel<Event>(upstream: UpstreamChat<Event>): ChatModel {
  const { model, contextWindow, pricing } = upstream;
  return {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    ...chatModelFacts(model.modelId, { contextWindow, pricing }),
    stream: (request) => streamUpstreamChat(request, upstream),
  };
}

/**
 * Streams a vendor's chat response as the port's parts: each text delta as it arrives, then one
 * finish with the vendor's usage (or an estimate). The caller's abort closes the vendor's
 * connection and rethrows the abort reason, whatever the SDK made of it (the openai SDK ends the
 * stream quietly; cohere-ai throws its own error).
 */
async function* streamUpstreamChat<Event>(
  request: ChatRequest,
  upstream: UpstreamChat<Event>,
): AsyncGenerator<ChatStreamPart> {
  const callerSignal = request.signal;
  callerSignal?.throwIfAborted();
  const connection = new AbortController();
  const forwardAbort = () => connection.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', forwardAbort, { once: true });
  const idleTimeoutMs = upstream.idleTimeoutMs ?? defaultIdleTimeoutMs;
  let timedOut = false;
  let started = false;
  /** Waits for the vendor, but no longer than the idle timeout: then the request is aborted. */
  const withinIdleTimeout = async <T>(wait: () => Promise<T>): Promise<T> => {
    const timer = setTimeout(() => {
      timedOut = true;
      connection.abort(new Error(`no data for ${idleTimeoutMs} ms`));
    }, idleTimeoutMs);
    try {
      return await wait();
    } finally {
      clearTimeout(timer);
    }
  };

  let completion = '';
  let usage: TokenUsage | undefined;
  try {
    const events = await withinIdleTimeout(() => upstream.open(request, connection.signal));
    started = true;
    const iterator = events[Symbol.asyncIterator]();
    for (;;) {
      const next = await withinIdleTimeout(() => iterator.next());
      // An SDK may end the stream quietly when its request is aborted: that is no answer.
      if (connection.signal.aborted) throw connection.signal.reason;
      if (next.done) break;
      const reading = upstream.read(next.value);
      if (reading.usage) usage = reading.usage;
      if (reading.text) {
        completion += reading.text;
        yield { type: 'text-delta', text: reading.text };
      }
    }
  } catch (error) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    if (timedOut) throw timeoutError(upstream.model, idleTimeoutMs, error);
    throw upstreamError(upstream.model, error, upstream.responseOf(error), started);
  } finally {
    callerSignal?.removeEventListener('abort', forwardAbort);
    // Closes the connection when the consumer stops early (and is a no-op once the response ended).
    connection.abort();
  }
  yield { type: 'finish', usage: usage ?? estimateUsage(request.messages, completion) };
}

/**
 * An HTTP or connection failure as UPSTREAM_FAILED. The vendor's own message stays in `cause`
 * (logged), never in the message: it can quote the key or the input.
 */
function upstreamError(
  model: ChatModelName,
  cause: unknown,
  response: UpstreamResponse | undefined,
  started: boolean,
): UpstreamError {
  const status = response?.status;
  const what = status !== undefined ? `HTTP ${status}` : started ? 'mid-stream' : 'no response';
  const retryAfterMs = retryAfterOf(response?.headers);
  const error = new UpstreamError(
    `${model.vendor} chat request for model '${model.modelId}' failed (${what})`,
    { provider: model.provider, model: model.modelId, ...(status === undefined ? {} : { status }) },
    {
      ...(status === undefined ? {} : { status }),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      // No status: the connection failed or broke mid-stream.
      transient: status === undefined || status === 408 || status === 429 || status >= 500,
    },
  );
  error.cause = cause;
  return error;
}

/** A retry-after header in milliseconds: `retry-after-ms`, or `retry-after` in seconds or as a date. */
function retryAfterOf(headers: Headers | undefined): number | undefined {
  const milliseconds = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function timeoutError(model: ChatModelName, idleTimeoutMs: number, cause: unknown): UpstreamError {
  const error = new UpstreamError(
    `${model.vendor} chat request for model '${model.modelId}' timed out: nothing arrived for ${idleTimeoutMs} ms`,
    { provider: model.provider, model: model.modelId, idleTimeoutMs },
    { transient: true },
  );
  error.cause = cause;
  return error;
}

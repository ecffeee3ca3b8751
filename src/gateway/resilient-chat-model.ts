/**
 * Retries, a first-token timeout and a circuit breaker per provider around a chat model, with
 * cockatiel. Only the start of a stream is retried: once a token has been sent to the client a
 * retry would splice two answers, so a failure after that is left to the fallback chain.
 */
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IPolicy,
  type IRetryBackoffContext,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { untilAborted } from '../abort.ts';
import { UpstreamError } from '../errors.ts';
import type { ChatModel, ChatRequest, ChatStreamPart } from '../ports.ts';

export interface ResilienceSettings {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** The first retry's delay; later ones grow exponentially, with jitter. */
  initialDelayMs: number;
  /** The longest delay between attempts; a provider asking callers to wait longer is not retried. */
  maxDelayMs: number;
  /** The longest wait for an attempt's first token. */
  firstTokenTimeoutMs: number;
  /** Consecutive failed calls that open a provider's circuit. */
  breakerThreshold: number;
  /** How long an open circuit refuses calls before it lets one through to test the provider. */
  breakerHalfOpenAfterMs: number;
}

/** The settings when the server's configuration does not change them. */
export const defaultResilience: ResilienceSettings = {
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  firstTokenTimeoutMs: 30_000,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 30_000,
};

export interface ResilienceEvents {
  /** A failed attempt is about to be retried after `delayMs`. */
  onRetry?(model: ChatModel, delayMs: number): void;
}

/**
 * Failures that say nothing about the request itself: retried, and counted by the breaker. The
 * caller's own abort is neither.
 */
function isTransient(error: unknown): boolean {
  if (error instanceof TaskCancelledError) return true;
  return error instanceof UpstreamError && error.failure.transient;
}

/** One circuit breaker per provider, shared by all its models: an outage is the provider's. */
export class ProviderCircuits {
  private readonly breakers = new Map<string, ReturnType<typeof circuitBreaker>>();
  private readonly settings: ResilienceSettings;

  constructor(settings: ResilienceSettings) {
    this.settings = settings;
  }

  for(provider: string): ReturnType<typeof circuitBreaker> {
    let breaker = this.breakers.get(provider);
    if (!breaker) {
      breaker = circuitBreaker(handleWhen(isTransient), {
        halfOpenAfter: this.settings.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.settings.breakerThreshold),
      });
      this.breakers.set(provider, breaker);
    }
    return breaker;
  }
}

/**
 * Exponential backoff with jitter that waits at least as long as the provider's retry-after asks.
 */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  private readonly exponential: IBackoffFactory<unknown>;

  constructor(exponential: IBackoffFactory<unknown>) {
    this.exponential = exponential;
  }

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const step = this.exponential.next(context) as IBackoff<unknown>;
    const failure = 'error' in context.result ? context.result.error : undefined;
    const asked = failure instanceof UpstreamError ? (failure.failure.retryAfterMs ?? 0) : 0;
    return {
      duration: Math.max(step.duration, asked),
      next: (following) => new RetryAfterBackoff(step).next(following),
    };
  }
}

/** The model behind retries, a first-token timeout and its provider's circuit. */
export function withResilience(
  model: ChatModel,
  circuits: ProviderCircuits,
  settings: ResilienceSettings,
  events: ResilienceEvents = {},
): ChatModel {
  if (model.provider === 'ragql') return model; // extractive runs in process: nothing to retry
  const retries = retry(
    handleWhen(
      (error) =>
        isTransient(error) &&
        // A provider that asks for a longer pause than ragql would wait is left to the fallbacks.
        !(error instanceof UpstreamError && (error.failure.retryAfterMs ?? 0) > settings.maxDelayMs),
    ),
    {
      maxAttempts: settings.maxAttempts - 1,
      backoff: new RetryAfterBackoff(
        new ExponentialBackoff({ initialDelay: settings.initialDelayMs, maxDelay: settings.maxDelayMs }),
      ),
    },
  );
  retries.onRetry((event) => events.onRetry?.(model, event.delay));
  const policy = wrap(
    retries,
    circuits.for(model.provider),
    // abortOnReturn: false, or the attempt's signal would abort the stream once its first part is in.
    timeout(settings.firstTokenTimeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
  );
  return { ...model, stream: (request) => resilientStream(model, request, policy, settings) };
}

async function* resilientStream(
  model: ChatModel,
  request: ChatRequest,
  policy: IPolicy,
  settings: ResilienceSettings,
): AsyncGenerator<ChatStreamPart> {
  let started: { parts: AsyncIterator<ChatStreamPart>; first: IteratorResult<ChatStreamPart> };
  try {
    // The caller's signal goes to each attempt, not to the policy: cockatiel's timeout would take
    // the caller's abort for a timeout, which the circuit counts against the provider, so callers
    // leaving before their first token could open the provider's circuit for every tenant. An
    // aborted attempt fails with the caller's reason instead, neither retried nor counted.
    const starting = policy.execute(async ({ signal }) => {
      const attemptSignal = request.signal ? AbortSignal.any([signal, request.signal]) : signal;
      const parts = model.stream({ ...request, signal: attemptSignal })[Symbol.asyncIterator]();
      return { parts, first: await parts.next() };
    });
    // cockatiel's wait between attempts does not listen to the signal; an attempt after it would
    // see the aborted signal and send nothing.
    started = await (request.signal ? untilAborted(starting, request.signal) : starting);
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    throw asUpstreamError(model, error, settings);
  }
  const { parts, first } = started;
  if (first.done) return;
  yield first.value;
  try {
    for (let next = await parts.next(); !next.done; next = await parts.next()) yield next.value;
  } finally {
    await parts.return?.();
  }
}

/** cockatiel's own errors as ragql's: an open circuit, or an attempt that timed out. */
function asUpstreamError(model: ChatModel, error: unknown, settings: ResilienceSettings): unknown {
  const details = { provider: model.provider, model: model.modelId };
  if (error instanceof BrokenCircuitError) {
    const failure = new UpstreamError(
      `The circuit for provider '${model.provider}' is open after repeated failures; ragql tries it again within ${settings.breakerHalfOpenAfterMs} ms`,
      details,
      { transient: false },
    );
    failure.cause = error;
    return failure;
  }
  if (error instanceof TaskCancelledError) {
    const failure = new UpstreamError(
      `Chat request for model '${model.modelId}' timed out: no token within ${settings.firstTokenTimeoutMs} ms`,
      details,
      { transient: true },
    );
    failure.cause = error;
    return failure;
  }
  return error;
}

/**
 * Expected failures, as values every layer may throw. The GraphQL edge (src/schema/client-errors.ts)
 * turns them into errors with `extensions.code`; anything else is masked for clients and logged.
 */
export type RagqlErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'EMBEDDING_SPACE_MISMATCH'
  /** A provider or store answered with a failure. */
  | 'UPSTREAM_FAILED'
  /** A store or provider cannot be reached at all; retrying later may succeed. */
  | 'UPSTREAM_UNAVAILABLE'
  /** A retriever or reranker plugin threw, returned something invalid or ran out of time. */
  | 'PLUGIN_FAILED'
  /** Authentication is on and the operation came without a valid API key. */
  | 'UNAUTHENTICATED'
  /** The caller's key may not do this (an operation on the whole store, without an operator key). */
  | 'FORBIDDEN'
  /** The caller's tier allows no more of this now; `retryAfter` says in how many seconds. */
  | 'RATE_LIMITED';

export class RagqlError extends Error {
  readonly code: RagqlErrorCode;
  /** Machine-readable details for clients, e.g. the list of problems with an input. */
  readonly details?: Record<string, unknown>;

  constructor(code: RagqlErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'RagqlError';
    this.code = code;
    this.details = details;
  }
}

/** How a provider failed, for the gateway's retries; kept out of client errors. */
export interface UpstreamFailure {
  /** The HTTP status, when the provider answered with one. */
  status?: number;
  /** How long the provider asked callers to wait (its retry-after header), in milliseconds. */
  retryAfterMs?: number;
  /** Worth retrying: a rate limit, a server error, a timeout or a broken connection. */
  transient: boolean;
}

/** UPSTREAM_FAILED from a provider call, with how it failed. */
export class UpstreamError extends RagqlError {
  readonly failure: UpstreamFailure;

  constructor(message: string, details: Record<string, unknown>, failure: UpstreamFailure) {
    super('UPSTREAM_FAILED', message, details);
    this.name = 'UpstreamError';
    this.failure = failure;
  }
}

export function badInput(message: string, details?: Record<string, unknown>): RagqlError {
  return new RagqlError('BAD_USER_INPUT', message, details);
}

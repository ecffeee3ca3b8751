/**
 * The token budget port: what the pipeline asks of the caller's policy before a model call.
 * src/access/rate-limits.ts implements it, per caller and UTC day.
 */

/** Tokens held for one model call until its real usage is known. */
export interface TokenReservation {
  /** Replaces the reservation with the tokens the call used (more or fewer). */
  settle(tokensUsed: number): Promise<void>;
}

/**
 * A caller's daily tokens. Every model call reserves its most tokens before it starts, so
 * concurrent calls cannot together spend more than the budget.
 */
export interface TokenBudget {
  /** Throws RATE_LIMITED (with `retryAfter`) when the day's tokens are spent. */
  check(): Promise<void>;
  /** Holds `tokens` of the day's budget; throws RATE_LIMITED when they are spent. */
  reserve(tokens: number): Promise<TokenReservation>;
}

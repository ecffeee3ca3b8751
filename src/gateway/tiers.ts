/** What a tier allows one tenant (enforced by the rate limiter). */
export interface TierLimits {
  requestsPerMinute: number;
  tokensPerDay: number;
  concurrentStreams: number;
}

/** The tiers a server has unless its config file defines its own. */
export const defaultTiers: Readonly<Record<string, TierLimits>> = {
  free: { requestsPerMinute: 60, tokensPerDay: 200_000, concurrentStreams: 2 },
  pro: { requestsPerMinute: 600, tokensPerDay: 5_000_000, concurrentStreams: 20 },
  enterprise: { requestsPerMinute: 6000, tokensPerDay: 100_000_000, concurrentStreams: 500 },
};

/** The tier of the anonymous caller when authentication is off. */
export const anonymousTier = 'enterprise';

/** What a tier allows one API key: limits (enforced by the rate limiter), query cost and models. */
export interface Tier {
  requestsPerMinute: number;
  tokensPerDay: number;
  concurrentStreams: number;
  /** The most a GraphQL operation may cost, as graphql-armor's cost limit counts it. */
  maxQueryCost: number;
  /** The chat models this tier may use, by name; absent: every configured model. */
  models?: string[];
  /** The models that answer, in order, when the routed one fails; `extractive` needs no provider. */
  fallbacks: string[];
  /**
   * The cheap model that labels this tier's questions for the config file's `classifier`; absent:
   * the built-in heuristic labels them.
   */
  classifierModel?: string;
}

/** A tier as a config file may write it: the query cost and fallbacks have defaults. */
export type TierSettings = Omit<Tier, 'maxQueryCost' | 'fallbacks'> &
  Partial<Pick<Tier, 'maxQueryCost' | 'fallbacks'>>;

/** The query cost every tier may spend unless it says otherwise. */
export const defaultMaxQueryCost = 5000;
/** Where every tier falls back unless it says otherwise: an answer from the sources, without an LLM. */
export const defaultFallbacks: readonly string[] = Object.freeze(['extractive']);
const fallbacks = () => [...defaultFallbacks];

/** The tiers a server has unless its config file defines its own. */
export const defaultTiers: Readonly<Record<'free' | 'pro' | 'enterprise', Tier>> = {
  free: {
    requestsPerMinute: 60,
    tokensPerDay: 200_000,
    concurrentStreams: 2,
    // About ten searches with every field in one request.
    maxQueryCost: 600,
    fallbacks: fallbacks(),
  },
  pro: {
    requestsPerMinute: 600,
    tokensPerDay: 5_000_000,
    concurrentStreams: 20,
    maxQueryCost: defaultMaxQueryCost,
    fallbacks: fallbacks(),
  },
  enterprise: {
    requestsPerMinute: 6000,
    tokensPerDay: 100_000_000,
    concurrentStreams: 500,
    maxQueryCost: defaultMaxQueryCost,
    fallbacks: fallbacks(),
  },
};

/** The tier of the anonymous caller when authentication is off. */
export const anonymousTier = 'enterprise';

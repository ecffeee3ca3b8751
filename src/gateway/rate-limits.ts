import type { RedisClientType } from '@redis/client';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { RagqlError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Caller } from './api-keys.ts';
import { connectRedis } from './redis-connection.ts';
import type { Tier } from './tiers.ts';

export interface RateLimitOptions {
  tiers: Readonly<Record<string, Tier>>;
  /** With Redis, every ragql process counts against the same limits. */
  redisUrl?: string | undefined;
  logger: Logger;
}

/** A caller's daily tokens (see RateLimits.tokenBudget). */
export interface TokenBudget {
  check(): Promise<void>;
  spend(tokens: number): Promise<void>;
}

/** A stream slot held by a subscription; give it back when the stream ends. */
export type StreamSlot = { release(): Promise<void> };

/**
 * A safety expiry for stream slots: a process that dies holding slots gives them back after this
 * long rather than never.
 */
const streamSlotLifetimeSeconds = 3600;
/** What a client refused a stream is told to wait: streams usually end within seconds. */
const streamRetrySeconds = 5;

/**
 * Requests per minute and concurrent answer streams per API key, as each key's tier allows
 * (rate-limiter-flexible). In memory by default; in Redis when configured, where a Redis that
 * fails is replaced by the in-memory limits (the insurance limiter) rather than failing requests.
 */
export class RateLimits {
  private readonly requests = new Map<string, RateLimiterAbstract>();
  private readonly streams = new Map<string, RateLimiterAbstract>();
  private readonly tokens = new Map<string, RateLimiterAbstract>();
  private readonly redis: RedisClientType | null;

  constructor(options: RateLimitOptions) {
    this.redis = options.redisUrl
      ? connectRedis(
          options.redisUrl,
          options.logger,
          'Rate limits cannot reach Redis; each process limits on its own until it is back',
        )
      : null;
    for (const [tier, limits] of Object.entries(options.tiers)) {
      this.requests.set(tier, this.limiter(`requests:${tier}`, limits.requestsPerMinute, 60));
      this.streams.set(
        tier,
        this.limiter(`streams:${tier}`, limits.concurrentStreams, streamSlotLifetimeSeconds),
      );
      this.tokens.set(tier, this.limiter(`tokens:${tier}`, limits.tokensPerDay, 24 * 3600));
    }
  }

  /** Counts one operation; RATE_LIMITED (with `retryAfter` in seconds) over the tier's rate. */
  async admitRequest(caller: Caller): Promise<void> {
    await consume(this.limiterOf(this.requests, caller), caller, 'requests', 'requests per minute');
  }

  /** Takes a stream slot; RATE_LIMITED when the tier's concurrent streams are all taken. */
  async openStream(caller: Caller): Promise<StreamSlot> {
    const limiter = this.limiterOf(this.streams, caller);
    try {
      await consume(limiter, caller, 'streams', 'concurrent answer streams', streamRetrySeconds);
    } catch (error) {
      // A refused consume still counts; a refused stream holds no slot.
      await limiter.reward(caller.keyId, 1).catch(() => undefined);
      throw error;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await limiter.reward(caller.keyId, 1).catch(() => undefined);
      },
    };
  }

  /**
   * The caller's daily token budget: `check` refuses (RATE_LIMITED) once the day's tokens are
   * spent; `spend` counts the tokens an answer used, as the provider reported them. An answer that
   * starts within budget may end over it: its tokens are known only once it is written.
   */
  tokenBudget(caller: Caller): TokenBudget {
    const limiter = this.limiterOf(this.tokens, caller);
    return {
      check: async () => {
        const spent = await limiter.get(caller.keyId).catch(() => null);
        if (!spent || spent.consumedPoints < limiter.points) return;
        const retryAfter = Math.max(1, Math.ceil(spent.msBeforeNext / 1000));
        throw new RagqlError(
          'RATE_LIMITED',
          `The ${caller.tier} tier allows ${limiter.points} tokens a day, and they are spent; retry in ${retryAfter} s.`,
          { retryAfter, limit: 'tokens' },
        );
      },
      spend: async (tokens) => {
        if (tokens > 0) await limiter.penalty(caller.keyId, tokens).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.redis?.close().catch(() => undefined);
  }

  private limiterOf(limiters: ReadonlyMap<string, RateLimiterAbstract>, caller: Caller): RateLimiterAbstract {
    const limiter = limiters.get(caller.tier);
    if (!limiter) throw new Error(`Caller's tier "${caller.tier}" has no limits`);
    return limiter;
  }

  private limiter(name: string, points: number, duration: number): RateLimiterAbstract {
    const memory = new RateLimiterMemory({ keyPrefix: `ragql:${name}`, points, duration });
    if (!this.redis) return memory;
    return new RateLimiterRedis({
      storeClient: this.redis,
      useRedisPackage: true,
      keyPrefix: `ragql:${name}`,
      points,
      duration,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }
}

/**
 * @param retryAfterSeconds when to retry, if not when the limiter's window ends (a stream slot
 *   frees when a stream ends, not when its safety expiry does)
 */
async function consume(
  limiter: RateLimiterAbstract,
  caller: Caller,
  limit: 'requests' | 'streams',
  what: string,
  retryAfterSeconds?: number,
): Promise<void> {
  try {
    await limiter.consume(caller.keyId, 1);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const retryAfter = retryAfterSeconds ?? Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new RagqlError(
      'RATE_LIMITED',
      `The ${caller.tier} tier allows ${limiter.points} ${what}; retry in ${retryAfter} s.`,
      { retryAfter, limit },
    );
  }
}

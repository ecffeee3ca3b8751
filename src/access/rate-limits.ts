import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { RagqlError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { TokenBudget, TokenReservation } from '../ports.ts';
import type { Caller } from './api-keys.ts';
import { closeRedis, connectRedis, type RedisConnection } from './redis-connection.ts';
import type { Tier } from './tiers.ts';

export interface RateLimitOptions {
  tiers: Readonly<Record<string, Tier>>;
  /** With Redis, every ragql process counts against the same limits. */
  redisUrl?: string | undefined;
  logger: Logger;
}

/** A stream slot held by a subscription; give it back when the stream ends. */
export type StreamSlot = { release(): Promise<void> };

/**
 * A safety expiry for stream slots: a process that dies holding slots gives them back after this
 * long rather than never.
 */
const streamSlotLifetimeSeconds = 3600;
/** What a client refused a stream is told to wait: streams usually end within seconds. */
export const streamRetrySeconds = 5;

/**
 * Requests per minute and concurrent answer streams per API key, as each key's tier allows
 * (rate-limiter-flexible). In memory by default; in Redis when configured, where a Redis that
 * fails is replaced by the in-memory limits (the insurance limiter) rather than failing requests.
 */
export class RateLimits {
  private readonly requests = new Map<string, RateLimiterAbstract>();
  private readonly streams = new Map<string, RateLimiterAbstract>();
  private readonly tokens = new Map<string, RateLimiterAbstract>();
  private readonly redis: RedisConnection | null;

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
      // Keyed by UTC day (dayKey): a key first spent at or after 00:00 lives past its day's end.
      this.tokens.set(tier, this.limiter(`tokens:${tier}`, limits.tokensPerDay, 24 * 3600));
    }
  }

  /** Counts one operation; RATE_LIMITED (with `retryAfter` in seconds) over the tier's rate. */
  async admitRequest(caller: Caller): Promise<void> {
    await this.redis?.firstAttempt;
    await consume(this.limiterOf(this.requests, caller), caller, 'requests', 'requests per minute');
  }

  /** Takes a stream slot; RATE_LIMITED when the tier's concurrent streams are all taken. */
  async openStream(caller: Caller): Promise<StreamSlot> {
    const limiter = this.limiterOf(this.streams, caller);
    await this.redis?.firstAttempt;
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
   * The caller's token budget for the current UTC day (the days `usage` reports), reset at 00:00
   * UTC. A reservation is one atomic consume: concurrent calls cannot all pass a check and then
   * overspend together. The reservation that crosses the limit is let through (else no call
   * bigger than what is left could ever run), so a day may end over budget by at most that one
   * reservation; after it every reservation is refused until midnight.
   */
  tokenBudget(caller: Caller): TokenBudget {
    const limiter = this.limiterOf(this.tokens, caller);
    const refusal = () => {
      const retryAfter = secondsUntilUtcMidnight();
      return new RagqlError(
        'RATE_LIMITED',
        `The ${caller.tier} tier allows ${limiter.points} tokens a day, and they are spent or held by model calls in progress; retry in ${retryAfter} s (00:00 UTC).`,
        { retryAfter, limit: 'tokens' },
      );
    };
    return {
      check: async () => {
        await this.redis?.firstAttempt;
        const spent = await limiter.get(dayKey(caller)).catch(() => null);
        if (spent && spent.consumedPoints >= limiter.points) throw refusal();
      },
      reserve: async (tokens) => {
        // Settled on the day it was made, even when the call ends after midnight.
        const key = dayKey(caller);
        await this.redis?.firstAttempt;
        if (tokens <= 0) return settleOn(limiter, key, 0);
        try {
          await limiter.consume(key, tokens);
        } catch (rejection) {
          // A limiter that fails (not a refusal) lets the call through, as the insurance limiter would.
          if (!(rejection instanceof RateLimiterRes)) return settleOn(limiter, key, 0);
          if (rejection.consumedPoints - tokens >= limiter.points) {
            // A refused consume still counts.
            await limiter.reward(key, tokens).catch(() => undefined);
            throw refusal();
          }
        }
        return settleOn(limiter, key, tokens);
      },
    };
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
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
      storeClient: this.redis.client,
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

/** The budget key of the caller's current UTC day. */
function dayKey(caller: Caller, now = new Date()): string {
  return `${caller.keyId}:${now.toISOString().slice(0, 10)}`;
}

function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}

/** A reservation of `reserved` tokens under `key`, settled by the difference to what was used. */
function settleOn(limiter: RateLimiterAbstract, key: string, reserved: number): TokenReservation {
  return {
    settle: async (tokensUsed) => {
      const difference = tokensUsed - reserved;
      const settled =
        difference > 0
          ? limiter.penalty(key, difference)
          : difference < 0
            ? limiter.reward(key, -difference)
            : null;
      await settled?.catch(() => undefined);
    },
  };
}

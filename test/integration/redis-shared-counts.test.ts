/**
 * Limits and usage shared through the real Redis on this machine count from a process's first
 * request: what a process does while its Redis connection is still opening is not kept to
 * itself. Each case builds its parts and uses them at once, before any connection can be up.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/access/api-keys.ts';
import { RateLimits } from '../../src/access/rate-limits.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { UsageLedger } from '../../src/access/usage-ledger.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { ragqlRejectionOf } from '../support/rejection.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger('silent');
const opened: { close(): Promise<void> }[] = [];

function track<Part extends { close(): Promise<void> }>(part: Part): Part {
  opened.push(part);
  return part;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((part) => part.close()));
});

const tiers = { pair: { ...defaultTiers.free, requestsPerMinute: 2, concurrentStreams: 1 } };

/** A caller of its own, so runs never share a count left in Redis. */
function freshCaller(): Caller {
  return { tenant: `t-${randomUUID()}`, tier: 'pair', keyId: randomUUID(), keyName: 'k', operator: false };
}

describe('counts shared through Redis', () => {
  it('counts the first request of each process just started against one limit', async () => {
    const caller = freshCaller();
    const first = track(new RateLimits({ tiers, redisUrl, logger }));
    await first.admitRequest(caller);
    const second = track(new RateLimits({ tiers, redisUrl, logger }));
    await second.admitRequest(caller);
    const refusal = await ragqlRejectionOf(first.admitRequest(caller));
    expect(refusal.code).toBe('RATE_LIMITED');
  });

  it('holds a stream slot taken by a process just started against every process', async () => {
    const caller = freshCaller();
    const slot = await track(new RateLimits({ tiers, redisUrl, logger })).openStream(caller);
    const refusal = await ragqlRejectionOf(
      track(new RateLimits({ tiers, redisUrl, logger })).openStream(caller),
    );
    expect(refusal.code).toBe('RATE_LIMITED');
    await slot.release();
  });

  it('keeps the usage a process just started records where every process reads it', async () => {
    const tenant = `t-${randomUUID()}`;
    const at = new Date();
    const day = at.toISOString().slice(0, 10);
    const usage = { promptTokens: 3, completionTokens: 4, totalTokens: 7, costUsd: 0.5 };
    await track(new UsageLedger({ redisUrl, logger })).record(tenant, 'gpt-4o-mini', usage, {
      answer: true,
      at,
    });
    const [read] = await track(new UsageLedger({ redisUrl, logger })).days(tenant, day, day);
    expect(read?.totalTokens).toBe(7);
  });

  it('holds requests back at most briefly for a Redis that accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const limits = track(new RateLimits({ tiers, redisUrl: `redis://127.0.0.1:${port}`, logger }));
      const started = performance.now();
      await limits.admitRequest(freshCaller());
      expect(performance.now() - started).toBeLessThan(4000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

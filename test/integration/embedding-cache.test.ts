/**
 * The embedding cache: an in-process LRU in front of the real Redis on this machine, shared by
 * every ragql process; and, against a Redis this file starts and kills, that an outage costs
 * neither correctness nor time.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CachedEmbedder, vectorCodec } from '../../src/gateway/cached-embedder.ts';
import { TieredCache } from '../../src/gateway/tiered-cache.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Embedder, EmbedOptions } from '../../src/ports.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import { type PrivateRedis, startPrivateRedis } from '../support/redis-server.ts';

const machineRedis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const tenant = 'acme';

/** An embedder that records every call, with a model id of its own so no test sees another's keys. */
function countingEmbedder() {
  const calls: { texts: string[]; purpose: EmbedOptions['purpose'] }[] = [];
  const embedder: Embedder = {
    specificationVersion: 'v1',
    provider: 'test',
    modelId: `counting-${randomUUID()}`,
    dimensions: 16,
    maxEmbeddingsPerCall: 100,
    embed: async (texts, options) => {
      calls.push({ texts: [...texts], purpose: options.purpose });
      return {
        embeddings: texts.map((text) => Float32Array.from(deterministicEmbedding(text, 16))),
        tokens: texts.length,
      };
    },
  };
  return { embedder, calls };
}

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, logger };
}

function cacheFor(redisUrl: string | undefined, logger = createLogger('silent'), lookups: string[] = []) {
  return new TieredCache({
    onLookup: (result) => lookups.push(result),
    name: 'embeddings',
    maxEntries: 1000,
    ttlMs: 60_000,
    codec: vectorCodec,
    redisUrl,
    sharedTimeoutMs: 100,
    logger,
  });
}

describe('the embedding cache', () => {
  const caches: TieredCache<Float32Array>[] = [];
  const track = (cache: TieredCache<Float32Array>) => {
    caches.push(cache);
    return cache;
  };
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.close();
  });

  it('asks the provider only for texts it has not embedded, once each, and keeps the order', async () => {
    const { embedder, calls } = countingEmbedder();
    const cached = new CachedEmbedder(embedder, track(cacheFor(undefined)));
    const first = await cached.embed(['tides', 'moon', 'tides'], { purpose: 'document', tenant });
    const second = await cached.embed(['moon', 'sun', 'tides'], { purpose: 'document', tenant });
    expect(calls).toEqual([
      { texts: ['tides', 'moon'], purpose: 'document' },
      { texts: ['sun'], purpose: 'document' },
    ]);
    expect(second.embeddings.map((vector) => Array.from(vector))).toEqual(
      ['moon', 'sun', 'tides'].map((text) => Array.from(Float32Array.from(deterministicEmbedding(text, 16)))),
    );
    expect(first.embeddings[0]).toEqual(first.embeddings[2]);
    // A query is embedded apart from a document of the same text: providers may tell them apart.
    await cached.embed(['moon'], { purpose: 'query', tenant });
    expect(calls.at(-1)).toEqual({ texts: ['moon'], purpose: 'query' });
  });

  it("never answers one tenant with a vector another tenant's text made", async () => {
    const { embedder, calls } = countingEmbedder();
    const cached = new CachedEmbedder(embedder, track(cacheFor(machineRedis)));
    await cached.embed(['the merger closes on Friday'], { purpose: 'query', tenant: 'acme' });
    await cached.embed(['the merger closes on Friday'], { purpose: 'query', tenant: 'globex' });
    await cached.embed(['the merger closes on Friday'], { purpose: 'query', tenant: 'acme' });
    expect(calls).toHaveLength(2);
  });

  it('shares vectors between processes through Redis, exactly', async () => {
    const { embedder, calls } = countingEmbedder();
    const oneProcess = new CachedEmbedder(embedder, track(cacheFor(machineRedis)));
    const lookups: string[] = [];
    const another = new CachedEmbedder(
      embedder,
      track(cacheFor(machineRedis, createLogger('silent'), lookups)),
    );
    const [made] = (await oneProcess.embed(['glaciers carve valleys'], { purpose: 'document', tenant }))
      .embeddings;
    const [shared] = (await another.embed(['glaciers carve valleys'], { purpose: 'document', tenant }))
      .embeddings;
    expect(calls).toHaveLength(1);
    expect(shared).toEqual(made);
    expect(lookups).toEqual(['shared_hit']);
  });
});

describe('the embedding cache when Redis goes down', () => {
  let redis: PrivateRedis | undefined;
  afterAll(async () => {
    await redis?.kill();
  });

  it('carries on within its timeout, warns once per outage, and uses Redis again once it is back', async () => {
    redis = await startPrivateRedis();
    const { lines, logger } = logLines();
    const { embedder, calls } = countingEmbedder();
    const cache = cacheFor(redis.url, logger);
    try {
      const cached = new CachedEmbedder(embedder, cache);
      await cached.embed(['before the outage'], { purpose: 'query', tenant });

      await redis.kill();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const text of ['during one', 'during two', 'during three']) {
        const started = performance.now();
        const { embeddings } = await cached.embed([text], { purpose: 'query', tenant });
        expect(performance.now() - started).toBeLessThan(1000);
        expect(Array.from(embeddings[0] ?? [])).toEqual(
          Array.from(Float32Array.from(deterministicEmbedding(text, 16))),
        );
      }
      // The in-process layer still answers what it holds.
      await cached.embed(['before the outage'], { purpose: 'query', tenant });
      expect(calls.map((call) => call.texts[0])).toEqual([
        'before the outage',
        'during one',
        'during two',
        'during three',
      ]);
      const warnings = lines.filter((line) => String(line.msg).includes('cannot reach Redis'));
      expect(warnings).toHaveLength(1);

      await redis.restart();
      const deadline = Date.now() + 10_000;
      while (
        !lines.some((line) => String(line.msg).includes('reaches Redis again')) &&
        Date.now() < deadline
      ) {
        await cached.embed([`after ${randomUUID()}`], { purpose: 'query', tenant });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(lines.some((line) => String(line.msg).includes('reaches Redis again'))).toBe(true);
    } finally {
      await cache.close();
    }
  }, 30_000);
});

/**
 * The embedder a plugin gets from the retrieval pipeline, over a real embedded store: its calls
 * are split as the server's embedder requires and made for the caller's tenant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { definePlugin, z } from '../../src/plugin-api/index.ts';
import { PluginRegistry } from '../../src/plugin-api/registry.ts';
import type { Embedder, EmbedOptions } from '../../src/ports.ts';
import { RetrievalPipeline } from '../../src/rag/retrieval.ts';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';

const dimensions = 16;
const texts = ['tides', 'moon', 'sun', 'orbit', 'gravity', 'coast', 'harbour'];

/** An embedder that takes at most three texts a call and records every call it gets. */
function recordingEmbedder(calls: { texts: string[]; options: EmbedOptions }[]): Embedder {
  return {
    specificationVersion: 'v1',
    provider: 'test',
    modelId: 'hashed-words',
    dimensions,
    maxEmbeddingsPerCall: 3,
    async embed(batch, options) {
      calls.push({ texts: [...batch], options });
      return { embeddings: batch.map((text) => Float32Array.from(deterministicEmbedding(text, dimensions))) };
    },
  };
}

describe("a plugin's embedder", () => {
  let folder: string;
  let engine: EmbeddedStore;
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ragql-plugin-embedder-'));
    engine = new EmbeddedStore({ dataDir: folder });
  });
  afterAll(async () => {
    await engine.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('splits a call into ones the embedder accepts, in order, for the caller and with the purpose asked', async () => {
    const calls: { texts: string[]; options: EmbedOptions }[] = [];
    let vectors: Float32Array[] = [];
    const registry = new PluginRegistry();
    registry.register(
      definePlugin({
        name: 'embeds-words',
        kind: 'retriever',
        version: '1.0.0',
        description: 'Embeds a list of words and finds nothing.',
        options: z.object({}),
        create: (context) => ({
          retrieve: async () => {
            vectors = (await context.embedder?.embed(texts, 'document')) ?? [];
            return { candidates: [] };
          },
        }),
      }),
    );
    await engine.bindEmbeddingSpace({ provider: 'test', modelId: 'hashed-words', dimensions });
    const pipeline = new RetrievalPipeline({
      registry,
      embedder: recordingEmbedder(calls),
      models: null,
      logger: createLogger('silent'),
    });
    await pipeline.run({
      tenant: engine.forTenant('acme'),
      caller: { tenant: 'acme', tier: 'free', budget: null },
      filter: [],
      query: { text: 'tides', limit: 5, alpha: 0.5, fusion: 'ranked' },
      retriever: { name: 'embeds-words' },
    });
    expect(calls.map((call) => call.texts)).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    expect(calls.map((call) => [call.options.tenant, call.options.purpose])).toEqual([
      ['acme', 'document'],
      ['acme', 'document'],
      ['acme', 'document'],
    ]);
    expect(calls.every((call) => call.options.signal instanceof AbortSignal)).toBe(true);
    expect(vectors).toEqual(texts.map((text) => Float32Array.from(deterministicEmbedding(text, dimensions))));
  });
});

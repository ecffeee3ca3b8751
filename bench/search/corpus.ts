/**
 * The workload every store under test gets (see ../support/synthetic-corpus.ts), and writing its
 * corpus into a store.
 */
import { defaultTenant, type Embedder, type StoreEngine, type TenantStore } from '../../src/ports.ts';
import {
  type BenchQuery,
  type CorpusModel,
  createCorpusModel,
  documentsPerUpsert,
  generateDocumentBatches,
  generateQueries,
} from '../support/synthetic-corpus.ts';
import type { BenchOptions } from './options.ts';

const warmupQueries = 20;

/** What every store under test gets: the same documents, embedding space and queries. */
export interface Workload {
  model: CorpusModel;
  chunks: number;
  /** Answers each benchmark query with its precomputed vector; its space is the stores' too. */
  queryEmbedder: Embedder;
  warmup: readonly BenchQuery[];
  measured: readonly BenchQuery[];
}

export function createWorkload(options: BenchOptions): Workload {
  const model = createCorpusModel(options.dimensions);
  const queries = generateQueries(model, warmupQueries + options.queries);
  return {
    model,
    chunks: options.chunks,
    queryEmbedder: precomputedQueryEmbedder(queries, options.dimensions),
    warmup: queries.slice(0, warmupQueries),
    measured: queries.slice(warmupQueries),
  };
}

function precomputedQueryEmbedder(queries: readonly BenchQuery[], dimensions: number): Embedder {
  const vectors = new Map(queries.map((query) => [query.text, query.vector]));
  return {
    specificationVersion: 'v1',
    provider: 'bench',
    modelId: 'synthetic',
    dimensions,
    maxEmbeddingsPerCall: 1,
    async embed(texts) {
      const embeddings = texts.map((text) => {
        const vector = vectors.get(text);
        if (!vector) throw new Error(`The bench embedder knows only the benchmark queries, not "${text}"`);
        return vector;
      });
      return { embeddings };
    },
  };
}

/**
 * Binds the store to the workload's space and writes the corpus to the default tenant. Times only
 * the store writes: generating text, hashes and vectors happens before each call.
 */
export async function writeCorpus(
  store: StoreEngine,
  workload: Workload,
): Promise<{ documents: TenantStore; ingestChunksPerSecond: number }> {
  const { provider, modelId, dimensions } = workload.queryEmbedder;
  await store.bindEmbeddingSpace({ provider, modelId, dimensions });
  const tenant = store.forTenant(defaultTenant);
  const chunkTotal = workload.chunks;
  let writeMs = 0;
  let written = 0;
  let documents = 0;
  let nextProgress = 0.1;
  for (const batch of generateDocumentBatches(workload.model, chunkTotal)) {
    const started = performance.now();
    await tenant.upsertDocuments(batch);
    writeMs += performance.now() - started;
    documents += batch.length;
    written += batch.reduce((sum, document) => sum + document.chunks.length, 0);
    if (written / chunkTotal >= nextProgress) {
      process.stderr.write(`  ... ${written} chunks written\n`);
      while (written / chunkTotal >= nextProgress) nextProgress += 0.1;
    }
  }
  const chunksPerSecond = written / (writeMs / 1000);
  console.log(
    `  ${written} chunks in ${documents} documents (${documentsPerUpsert} per call): ` +
      `${(writeMs / 1000).toFixed(1)} s of store writes, ${chunksPerSecond.toFixed(0)} chunks/s`,
  );
  return { documents: tenant, ingestChunksPerSecond: chunksPerSecond };
}

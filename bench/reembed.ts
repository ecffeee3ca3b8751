/**
 * What re-embedding costs the requests around it, on one store (`--store`, the embedded store by
 * default):
 * - each write of a process that serves a generation reads the record of generations before and
 *   after it (the seal of another process's final pass): single-document writes are timed through
 *   that serving store and straight on the generation's store, interleaved, and the ratio printed;
 * - the final pass, which holds this process's writes and searches (the gate) and other processes'
 *   writes (the seal): a re-embedding of the corpus with nothing changing, its pause timed against
 *   the whole build, and against one listing of every document (what the final pass must read).
 * The embedder is a local function, so the times are the store's and ragql's, not a model's. It
 * prints, it does not assert.
 *
 *   npm run bench:reembed -- [--store embedded|postgres|weaviate|pinecone] [--chunks 20000] [--writes 200]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/composition/config.ts';
import { storeGenerationsFor } from '../src/composition/configured-store.ts';
import { createLogger } from '../src/observability/logger.ts';
import { type Embedder, type StoreEngine, spaceOfEmbedder } from '../src/ports.ts';
import { reembed } from '../src/rag/reembedding.ts';
import { SpaceGate } from '../src/rag/space-gate.ts';
import { ServingGenerationStore } from '../src/stores/serving-generation-store.ts';
import { temporaryDataDir } from '../test/support/ragql-instance.ts';
import { benchStoreKind, openBenchStore } from './support/bench-store.ts';
import { summarizeLatencies } from './support/latency.ts';
import { createCorpusModel, generateDocumentBatches } from './support/synthetic-corpus.ts';

const tenant = 'bench';
const dimensions = 64;

/** A local embedder: a fixed pseudo-random unit vector per text, at no cost worth measuring. */
function localEmbedder(modelId: string): Embedder {
  return {
    specificationVersion: 'v1',
    provider: 'bench',
    modelId,
    dimensions,
    maxEmbeddingsPerCall: 256,
    embed: async (texts) => ({ embeddings: texts.map((text) => vectorOf(text)) }),
  };
}

function vectorOf(text: string): Float32Array {
  const vector = new Float32Array(dimensions);
  let seed = 2166136261;
  for (let position = 0; position < text.length; position++)
    seed = Math.imul(seed ^ text.charCodeAt(position), 16777619);
  for (let index = 0; index < dimensions; index++) {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507);
    vector[index] = ((seed >>> 0) / 2 ** 32) * 2 - 1;
  }
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** A gate that times how long its exclusive work held requests: the final pass and the switch. */
class TimedGate extends SpaceGate {
  readonly pauses: number[] = [];

  override async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await super.exclusive(work);
    } finally {
      this.pauses.push(performance.now() - started);
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' },
      chunks: { type: 'string', default: '20000' },
      writes: { type: 'string', default: '200' },
    },
  });
  const kind = benchStoreKind(values.store);
  const chunkTotal = Number(values.chunks);
  const writes = Number(values.writes);
  const benchStore = await openBenchStore(kind, { dimensions });
  const dataDir = temporaryDataDir();
  const config = loadConfig({
    ...process.env,
    ...benchStore.environment,
    RAGQL_DATA_DIR: dataDir.path,
    RAGQL_WEAVIATE_COLLECTION_PREFIX: `BenchReembed${Date.now()}`,
  });
  const generations = storeGenerationsFor(config, createLogger('silent'));
  const oldModel = localEmbedder('bench-old');
  let source: StoreEngine | undefined;
  try {
    // It re-embeds every tenant, switches the record and drops generation 0: never on data.
    if ((await generations.read()).highest > 0 || (await generations.tenants(0)).length > 0) {
      throw new Error(
        `bench:reembed switches and drops generations; ${benchStore.description} holds some already: give it an empty store.`,
      );
    }
    source = await generations.open(0);
    await source.bindEmbeddingSpace(spaceOfEmbedder(oldModel));
    const serving = new ServingGenerationStore(source, 0, generations);
    const model = createCorpusModel(dimensions);
    let documentTotal = 0;
    for (const batch of generateDocumentBatches(model, chunkTotal)) {
      await source.forTenant(tenant).upsertDocuments(batch);
      documentTotal += batch.length;
    }
    console.log(
      `${benchStore.description}: ${documentTotal} documents, ${chunkTotal} chunks, ${dimensions} dimensions`,
    );

    // Writes of one document, each a new revision of one of the first documents, the two stores
    // taking turns to go first.
    const [sample = []] = generateDocumentBatches(model, 400);
    const direct: number[] = [];
    const throughServing: number[] = [];
    for (let write = 0; write < writes; write++) {
      const document = sample[write % sample.length];
      if (!document) throw new Error('the corpus has no documents');
      const turns: [StoreEngine, number[], string][] = [
        [source, direct, 'direct'],
        [serving, throughServing, 'serving'],
      ];
      if (write % 2 === 1) turns.reverse();
      for (const [store, samples, name] of turns) {
        const revision = { ...document, revisionHash: `${document.revisionHash}-${write}-${name}` };
        const started = performance.now();
        await store.forTenant(tenant).upsertDocuments([revision]);
        samples.push(performance.now() - started);
      }
    }
    const plain = summarizeLatencies(direct);
    const checked = summarizeLatencies(throughServing);
    console.log('\nOne-document writes (ms)            p50      p99');
    console.log(`  the generation's store       ${fixed(plain.p50)} ${fixed(plain.p99)}`);
    console.log(`  through the serving store    ${fixed(checked.p50)} ${fixed(checked.p99)}`);
    console.log(
      `  ratio (baseline 1.00)        ${fixed(checked.p50 / plain.p50)} ${fixed(checked.p99 / plain.p99)}`,
    );

    const listing = performance.now();
    let after: string | undefined;
    for (;;) {
      const page = await source
        .forTenant(tenant)
        .listDocuments({ limit: 100, filter: [], ...(after ? { after } : {}) });
      after = page.at(-1)?.id;
      if (page.length < 100) break;
    }
    const listingMs = performance.now() - listing;

    const gate = new TimedGate();
    const started = performance.now();
    const report = await reembed({
      generations,
      serving: () => serving,
      embedder: localEmbedder('bench-new'),
      embeddingBatchSize: 256,
      gate,
      // Nothing serves from it here: closed as soon as the switch hands it over.
      switchTo: (target) => void target.close(),
    });
    const buildMs = performance.now() - started;
    const pause = gate.pauses.reduce((sum, milliseconds) => sum + milliseconds, 0);
    console.log(`\nRe-embedding ${report.copied} documents into generation ${report.generation}`);
    console.log(`  whole build                  ${fixed(buildMs)} ms`);
    console.log(`  one listing of every document ${fixed(listingMs)} ms (baseline)`);
    console.log(
      `  final pass and switch        ${fixed(pause)} ms: ${fixed(pause / listingMs)} x the listing, ${fixed((100 * pause) / buildMs)}% of the build`,
    );
    // The retired space, on a store that outlives the run (the one that serves now stays, under
    // the run's own Weaviate prefix; on PostgreSQL, at DATABASE_URL only).
    await generations.drop(0);
  } finally {
    await source?.close();
    await generations.close();
    await benchStore.stop();
    dataDir.remove();
  }
}

const fixed = (value: number) => value.toFixed(2).padStart(8);

await main();

/**
 * Search latency on a synthetic corpus: builds an embedded store of N chunks with D-dimensional
 * vectors, then times keyword, vector and hybrid search in process (store.search) and through
 * GraphQL over HTTP on loopback, each query both ways back to back, and prints p50/p99 per mode
 * against the targets. It prints, it does not assert: the exit code is 0 unless something crashes.
 *
 *   npm run bench:search -- [--chunks 100000] [--dimensions 384] [--queries 200] [--weaviate] [--postgres] [--pinecone]
 *
 * With --weaviate it then writes the same corpus into a Weaviate (WEAVIATE_URL's, or a node it
 * starts with the tests' launcher and removes at the end) and times hybrid search there the same
 * two ways, through a second ragql, against the embedded store's figures. With --postgres it does
 * the same in PostgreSQL + pgvector (DATABASE_URL's, or PGlite), for every mode; with --pinecone
 * in Pinecone (PINECONE_INDEX_HOST's, or the tests' stand-in, whose brute-force scoring in this
 * very process makes its figures ragql's overhead plus the stand-in's, not Pinecone's).
 *
 * The corpus (see ../support/synthetic-corpus.ts) is generated from a fixed seed, so two runs with
 * the same arguments search the same data. Queries do not depend on --chunks.
 *
 * This file runs the steps; each of the other files in this folder does one of them.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../src/server.ts';
import { defaultTenantFileName, EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { type BenchWeaviate, openBenchWeaviate } from '../support/bench-weaviate.ts';
import { closeConnections } from '../support/post-json.ts';
import type { BenchQuery } from '../support/synthetic-corpus.ts';
import { startBenchServer } from './bench-server.ts';
import { createWorkload, writeCorpus } from './corpus.ts';
import { megabytes } from './format.ts';
import { exactNearest, measureFilteredHybrid, searchStore } from './in-process.ts';
import { readOptions } from './options.ts';
import { measureOnStore, type StoreRun } from './other-store.ts';
import { measureBareHttpRoundTrip, measureBothPaths } from './over-http.ts';
import {
  printGraphqlSection,
  printHeader,
  printInProcessSection,
  printStoreSection,
  printSummary,
  printWeaviateSection,
} from './report.ts';
import { type BareHttpFloor, type PairedRun, sharedHitShare } from './runs.ts';
import { hybridAlpha, hybridMode, searchModes } from './search-modes.ts';
import { measureOnWeaviate, type WeaviateRun } from './weaviate.ts';

async function main(): Promise<void> {
  const options = readOptions();
  const dataDir = mkdtempSync(join(tmpdir(), 'ragql-bench-search-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  let weaviate: BenchWeaviate | undefined;
  // A run takes minutes and leaves hundreds of megabytes behind, and with --weaviate a server
  // too: clean up on Ctrl-C as well.
  process.once('SIGINT', () => {
    removeDataDir();
    void Promise.resolve(weaviate?.remove()).finally(() => process.exit(130));
  });
  const storePath = join(dataDir, defaultTenantFileName);
  let store: EmbeddedStore | undefined;
  let server: RunningServer | undefined;
  try {
    store = new EmbeddedStore({ dataDir });
    printHeader(options);
    const workload = createWorkload(options);
    const { warmup, measured } = workload;

    console.log('\ningestion: upsertDocuments, vectors precomputed (no embedding)');
    const { documents, ingestChunksPerSecond } = await writeCorpus(store, workload);
    console.log(`  store file ${megabytes(storeFileBytes(storePath)).toFixed(0)} MB`);

    server = await startBenchServer(store, workload.queryEmbedder);
    process.stderr.write('  ... measuring a bare HTTP round trip, warm and right after a search\n');
    const bareHttp: BareHttpFloor = {
      warm: await measureBareHttpRoundTrip(warmup.length, measured.length),
      afterSearch: await measureBareHttpRoundTrip(warmup.length, measured.length, (round) =>
        searchStore(documents, measured[round % measured.length] as BenchQuery, hybridAlpha, []),
      ),
    };
    const paired: PairedRun[] = [];
    for (const mode of searchModes) {
      process.stderr.write(`  ... measuring ${mode.name} search\n`);
      paired.push(await measureBothPaths(documents, server.graphqlUrl, mode, warmup, measured));
    }
    process.stderr.write('  ... measuring filtered hybrid search\n');
    const filtered = await measureFilteredHybrid(documents, warmup, measured);

    const vectorRun = paired.find((run) => run.mode.name === 'vector');
    const vectorRecall = vectorRun
      ? sharedHitShare(exactNearest(storePath, measured), vectorRun.inProcess.hitIds)
      : Number.NaN;

    printInProcessSection(paired, filtered, vectorRecall, warmup.length, measured.length);
    printGraphqlSection(server.graphqlUrl, paired, bareHttp);

    let onWeaviate: WeaviateRun | undefined;
    const embeddedHybrid = paired.find((run) => run.mode === hybridMode);
    if (options.weaviate && embeddedHybrid) {
      weaviate = await openBenchWeaviate();
      onWeaviate = await measureOnWeaviate(weaviate, workload);
      printWeaviateSection(onWeaviate, embeddedHybrid);
    }
    const otherStores: StoreRun[] = [];
    for (const kind of (['postgres', 'pinecone'] as const).filter((kind) => options[kind])) {
      const run = await measureOnStore(kind, workload);
      printStoreSection(run, paired);
      otherStores.push(run);
    }
    printSummary(
      options,
      ingestChunksPerSecond,
      paired,
      filtered,
      bareHttp,
      vectorRecall,
      onWeaviate,
      otherStores,
    );
  } finally {
    closeConnections();
    await server?.close();
    await store?.close();
    await weaviate?.remove();
    removeDataDir();
  }
}

/** The SQLite file and its write-ahead log, which holds recent writes until a checkpoint. */
function storeFileBytes(storePath: string): number {
  return [storePath, `${storePath}-wal`]
    .filter((path) => existsSync(path))
    .reduce((sum, path) => sum + statSync(path).size, 0);
}

await main();

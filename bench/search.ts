/**
 * Search latency on a synthetic corpus: builds an embedded store of N chunks with D-dimensional
 * vectors, then times keyword, vector and hybrid search in process (store.search) and through
 * GraphQL over HTTP on loopback, each query both ways back to back, and prints p50/p99 per mode
 * against the targets. It prints, it does not assert: the exit code is 0 unless something crashes.
 *
 *   npm run bench:search -- [--chunks 100000] [--dimensions 384] [--queries 200] [--weaviate]
 *
 * With --weaviate it then writes the same corpus into a Weaviate (WEAVIATE_URL's, or a node it
 * starts with the tests' launcher and removes at the end) and times hybrid search there the same
 * two ways, through a second ragql, against the embedded store's figures.
 *
 * The corpus (see support/synthetic-corpus.ts) is generated from a fixed seed, so two runs with
 * the same arguments search the same data. Queries do not depend on --chunks.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { loadConfig } from '../src/composition/config.ts';
import { createPluginRegistry } from '../src/composition/load-plugins.ts';
import { assembleServices } from '../src/composition/services.ts';
import { createLogger } from '../src/observability/logger.ts';
import {
  defaultTenant,
  type Embedder,
  type Filter,
  type StoreEngine,
  type TenantStore,
} from '../src/ports.ts';
import { createExtractiveModel } from '../src/providers/extractive.ts';
import { singleModelRouter } from '../src/rag/index.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { defaultTenantFileName, EmbeddedStore } from '../src/stores/embedded/embedded-store.ts';
import { anonymousAccess } from '../test/support/anonymous-access.ts';
import { type BenchWeaviate, openBenchWeaviate, type WeaviateFootprint } from './support/bench-weaviate.ts';
import { type LatencySummary, summarizeLatencies, type Timed, timed } from './support/latency.ts';
import { closeConnections, postJson } from './support/post-json.ts';
import {
  type BenchQuery,
  type CorpusModel,
  clusterCount,
  corpusSeed,
  createCorpusModel,
  documentsPerUpsert,
  generateDocumentBatches,
  generateQueries,
  topicCount,
  vocabularySize,
} from './support/synthetic-corpus.ts';

const warmupQueries = 20;
const hitsPerSearch = 10;
const hybridAlpha = 0.5;
const targets = { hybridP50Ms: 15, graphqlOverheadP50Ms: 1.5, atChunks: 100_000 };

interface BenchOptions {
  chunks: number;
  dimensions: number;
  queries: number;
  /** Also measure hybrid search on Weaviate. */
  weaviate: boolean;
}

interface SearchModeUnderTest {
  name: 'keyword' | 'vector' | 'hybrid';
  alpha: number;
  /** What the GraphQL API must report as having run. */
  graphqlMode: 'KEYWORD' | 'VECTOR' | 'HYBRID';
}

const hybridMode: SearchModeUnderTest = { name: 'hybrid', alpha: hybridAlpha, graphqlMode: 'HYBRID' };

const searchModes: SearchModeUnderTest[] = [
  { name: 'keyword', alpha: 0, graphqlMode: 'KEYWORD' },
  { name: 'vector', alpha: 1, graphqlMode: 'VECTOR' },
  hybridMode,
];

interface MeasuredRun {
  latencies: LatencySummary;
  /** Chunk ids of each measured query's hits, in rank order. */
  hitIds: string[][];
}

/**
 * What any HTTP API pays on this machine: the round trip alone, warm, and right after a search.
 * A search of a large store evicts the CPU caches, and the round trip that follows runs cold:
 * that is the condition every GraphQL request here is measured in.
 */
interface BareHttpFloor {
  warm: LatencySummary;
  afterSearch: LatencySummary;
}

/** One mode measured both ways, query by query, so both paths run under the same machine load. */
interface PairedRun {
  mode: SearchModeUnderTest;
  inProcess: MeasuredRun;
  overHttp: MeasuredRun;
  /** Per query: the HTTP time minus the in-process time. */
  addedByGraphql: LatencySummary;
}

/** What every store under test gets: the same documents, embedding space and queries. */
interface Workload {
  model: CorpusModel;
  chunks: number;
  /** Answers each benchmark query with its precomputed vector; its space is the stores' too. */
  queryEmbedder: Embedder;
  warmup: readonly BenchQuery[];
  measured: readonly BenchQuery[];
}

interface WeaviateRun {
  ingestChunksPerSecond: number;
  footprint: WeaviateFootprint | null;
  graphqlUrl: string;
  hybrid: PairedRun;
}

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
    const model = createCorpusModel(options.dimensions);
    const queries = generateQueries(model, warmupQueries + options.queries);
    const workload: Workload = {
      model,
      chunks: options.chunks,
      queryEmbedder: precomputedQueryEmbedder(queries, options.dimensions),
      warmup: queries.slice(0, warmupQueries),
      measured: queries.slice(warmupQueries),
    };
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

    printInProcessSection(paired, filtered, warmup.length, measured.length);
    console.log(
      `  vector recall@${hitsPerSearch} against an exact scan (sqlite-vec, same file): ${vectorRecall.toFixed(4)}`,
    );
    printGraphqlSection(server.graphqlUrl, paired, bareHttp);

    let onWeaviate: WeaviateRun | undefined;
    const embeddedHybrid = paired.find((run) => run.mode === hybridMode);
    if (options.weaviate && embeddedHybrid) {
      weaviate = await openBenchWeaviate();
      onWeaviate = await measureOnWeaviate(weaviate, workload);
      printWeaviateSection(onWeaviate, embeddedHybrid);
    }
    printSummary(options, ingestChunksPerSecond, paired, filtered, bareHttp, vectorRecall, onWeaviate);
  } finally {
    closeConnections();
    await server?.close();
    await store?.close();
    await weaviate?.remove();
    removeDataDir();
  }
}

/**
 * The same hybrid searches on the same corpus in Weaviate: written through WeaviateStore, then
 * timed in process and through a ragql of its own, as on the embedded store.
 */
async function measureOnWeaviate(weaviate: BenchWeaviate, workload: Workload): Promise<WeaviateRun> {
  console.log(`\nWeaviate: ${weaviate.description}`);
  console.log(
    'ingestion into Weaviate: upsertDocuments through WeaviateStore, the same documents and vectors ' +
      '(the time includes building HNSW, unless the server has ASYNC_INDEXING on)',
  );
  const { documents, ingestChunksPerSecond } = await writeCorpus(weaviate.store, workload);
  const footprint = weaviate.footprint();
  if (footprint) {
    console.log(
      `  server resident memory ${megabytes(footprint.residentBytes).toFixed(0)} MB ` +
        `(peak ${megabytes(footprint.peakResidentBytes).toFixed(0)} MB), ` +
        `data folder ${megabytes(footprint.dataBytes).toFixed(0)} MB`,
    );
  }
  const server = await startBenchServer(weaviate.store, workload.queryEmbedder);
  try {
    process.stderr.write('  ... measuring hybrid search on Weaviate\n');
    const hybrid = await measureBothPaths(
      documents,
      server.graphqlUrl,
      hybridMode,
      workload.warmup,
      workload.measured,
    );
    return {
      ingestChunksPerSecond,
      footprint,
      graphqlUrl: server.graphqlUrl,
      hybrid,
    };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Options and output

function readOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      chunks: { type: 'string', default: '100000' },
      dimensions: { type: 'string', default: '384' },
      queries: { type: 'string', default: '200' },
      weaviate: { type: 'boolean', default: false },
    },
  });
  return {
    chunks: positiveInteger('--chunks', values.chunks),
    dimensions: positiveInteger('--dimensions', values.dimensions),
    queries: positiveInteger('--queries', values.queries),
    weaviate: values.weaviate,
  };
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${text}`);
  return value;
}

function printHeader(options: BenchOptions): void {
  const processors = cpus();
  console.log('ragql search benchmark');
  console.log(
    `  corpus: ${options.chunks} chunks, ${options.dimensions} dimensions, ${vocabularySize} made-up words ` +
      `(Zipf), ${clusterCount} vector clusters, seed ${corpusSeed}`,
  );
  console.log(
    `  machine: ${processors.length} x ${processors[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ` +
      `NODE_ENV=${process.env.NODE_ENV ?? '(unset)'} (ragql serve's default: production), load average ${oneMinuteLoad()} (other processes on the machine skew the figures)`,
  );
}

function oneMinuteLoad(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}

function printInProcessSection(
  paired: readonly PairedRun[],
  filtered: MeasuredRun,
  warmupCount: number,
  measuredCount: number,
): void {
  console.log(
    `\nin process: store.search, limit ${hitsPerSearch}, relativeScore fusion, ` +
      `${warmupCount} warm-up + ${measuredCount} queries per mode`,
  );
  for (const run of paired) printLatencyLine(run.mode.name, run.inProcess);
  printLatencyLine('hybrid, filtered', filtered);
  console.log(`    (filter metadata.topic eq the query's topic: 1 in ${topicCount} chunks qualifies)`);
}

function printGraphqlSection(url: string, paired: readonly PairedRun[], bareHttp: BareHttpFloor): void {
  console.log(
    `\nGraphQL: POST ${url}, node:http client on one kept-alive connection, the same queries and vectors, ` +
      'each query timed right before or after its in-process run',
  );
  console.log(
    `  ${'bare HTTP'.padEnd(17)} p50 ${formatMs(bareHttp.warm.p50)} ms   p99 ${formatMs(bareHttp.warm.p99)} ms` +
      '   (baseline: node:http server answering a fixed JSON body, same client)',
  );
  console.log(
    `  ${''.padEnd(17)} p50 ${formatMs(bareHttp.afterSearch.p50)} ms   p99 ${formatMs(bareHttp.afterSearch.p99)} ms` +
      '   right after an in-process hybrid search, as each GraphQL request runs (caches the search evicted)',
  );
  for (const run of paired) printOverHttp(run.mode.name, run, bareHttp);
}

/**
 * The HTTP side of a paired run, and how it compares with the in-process side; with the embedded
 * store's HTTP floor, also what remains beyond it (Weaviate searches in a process of its own, so
 * that floor does not apply to it).
 */
function printOverHttp(label: string, run: PairedRun, bareHttp?: BareHttpFloor): void {
  printLatencyLine(label, run.overHttp);
  const beyondFloor = bareHttp
    ? `; ${formatMs(beyondHttpFloor(run, bareHttp))} ms beyond the bare round trip after a search`
    : '';
  console.log(
    `  ${''.padEnd(17)} ${ratio(run).toFixed(2)}x in-process p50: GraphQL adds ${formatMs(overhead(run))} ms ` +
      `at p50 (median per-query difference ${formatMs(run.addedByGraphql.p50)} ms${beyondFloor}); ` +
      `same hits as in process for ${sameRankings(run.overHttp.hitIds, run.inProcess.hitIds)}/` +
      `${run.overHttp.hitIds.length} queries`,
  );
}

function printWeaviateSection(weaviate: WeaviateRun, embedded: PairedRun): void {
  const { hybrid } = weaviate;
  const measured = hybrid.inProcess.hitIds.length;
  console.log(
    `\nhybrid search on Weaviate: alpha ${hybridAlpha}, limit ${hitsPerSearch}, relativeScore fusion, ` +
      `the same ${measured} queries and vectors; in process (WeaviateStore.search) and through a second ` +
      `ragql (POST ${weaviate.graphqlUrl}), paired as above`,
  );
  printLatencyLine('in process', hybrid.inProcess);
  printOverHttp('GraphQL', hybrid);
  const times = (side: 'inProcess' | 'overHttp', percentile: 'p50' | 'p99') =>
    `${percentile} ${latencyRatio(hybrid[side], embedded[side], percentile).toFixed(2)}x`;
  console.log(
    `  ${'Weaviate/embedded'.padEnd(17)} in process ${times('inProcess', 'p50')}   ${times('inProcess', 'p99')}` +
      `   GraphQL ${times('overHttp', 'p50')}   ${times('overHttp', 'p99')}`,
  );
  console.log(
    `  top-${hitsPerSearch} overlap with the embedded store's hybrid hits: ` +
      `${sharedHitShare(hybrid.inProcess.hitIds, embedded.inProcess.hitIds).toFixed(4)} of Weaviate's hits; ` +
      `the same hits in the same order for ${sameRankings(hybrid.inProcess.hitIds, embedded.inProcess.hitIds)}/` +
      `${measured} queries`,
  );
  console.log(
    "    (the same fusion; Weaviate's vector search is HNSW and its BM25 statistics differ slightly)",
  );
}

function printLatencyLine(label: string, run: MeasuredRun): void {
  const meanHits = run.hitIds.reduce((sum, ids) => sum + ids.length, 0) / run.hitIds.length;
  console.log(
    `  ${label.padEnd(17)} p50 ${formatMs(run.latencies.p50)} ms   p99 ${formatMs(run.latencies.p99)} ms` +
      `   (mean ${meanHits.toFixed(1)} hits)`,
  );
}

function printSummary(
  options: BenchOptions,
  ingestChunksPerSecond: number,
  paired: readonly PairedRun[],
  filtered: MeasuredRun,
  bareHttp: BareHttpFloor,
  vectorRecall: number,
  onWeaviate: WeaviateRun | undefined,
): void {
  const metrics: [string, string][] = [
    [`vector_recall_at_${hitsPerSearch}`, vectorRecall.toFixed(4)],
    ['chunks', String(options.chunks)],
    ['dimensions', String(options.dimensions)],
    ['queries', String(options.queries)],
    ['load_average_1m_at_end', oneMinuteLoad()],
    ['ingest_chunks_per_second', ingestChunksPerSecond.toFixed(0)],
  ];
  for (const run of paired) {
    metrics.push([`${run.mode.name}_p50_ms`, formatMs(run.inProcess.latencies.p50)]);
    metrics.push([`${run.mode.name}_p99_ms`, formatMs(run.inProcess.latencies.p99)]);
  }
  metrics.push(['filtered_hybrid_p50_ms', formatMs(filtered.latencies.p50)]);
  metrics.push(['filtered_hybrid_p99_ms', formatMs(filtered.latencies.p99)]);
  for (const run of paired) {
    metrics.push([`${run.mode.name}_http_p50_ms`, formatMs(run.overHttp.latencies.p50)]);
    metrics.push([`${run.mode.name}_http_p99_ms`, formatMs(run.overHttp.latencies.p99)]);
  }
  metrics.push(['bare_http_round_trip_p50_ms', formatMs(bareHttp.warm.p50)]);
  metrics.push(['bare_http_round_trip_after_search_p50_ms', formatMs(bareHttp.afterSearch.p50)]);
  for (const run of paired) {
    metrics.push([`graphql_overhead_p50_ms_${run.mode.name}`, formatMs(overhead(run))]);
    metrics.push([`graphql_overhead_p50_ratio_${run.mode.name}`, ratio(run).toFixed(2)]);
    metrics.push([`graphql_overhead_paired_median_ms_${run.mode.name}`, formatMs(run.addedByGraphql.p50)]);
    metrics.push([
      `graphql_beyond_http_floor_p50_ms_${run.mode.name}`,
      formatMs(beyondHttpFloor(run, bareHttp)),
    ]);
  }
  const hybrid = paired.find((run) => run.mode === hybridMode);
  if (onWeaviate && hybrid) metrics.push(...weaviateMetrics(onWeaviate, hybrid));
  console.log('\nsummary');
  for (const [metric, value] of metrics) console.log(`${metric}=${value}`);

  console.log('\ntargets (informational)');
  if (hybrid) {
    const scale = options.chunks === targets.atChunks ? '' : `, measured at ${options.chunks} chunks`;
    printTarget(
      `hybrid_p50_ms <= ${targets.hybridP50Ms} (set for ${targets.atChunks} chunks${scale})`,
      hybrid.inProcess.latencies.p50,
      targets.hybridP50Ms,
    );
  }
  for (const run of paired) {
    printTarget(
      `graphql_overhead_p50_ms_${run.mode.name} <= ${targets.graphqlOverheadP50Ms}`,
      overhead(run),
      targets.graphqlOverheadP50Ms,
    );
  }
}

function weaviateMetrics(weaviate: WeaviateRun, embedded: PairedRun): [string, string][] {
  const { hybrid, footprint } = weaviate;
  const metrics: [string, string][] = [
    ['weaviate_ingest_chunks_per_second', weaviate.ingestChunksPerSecond.toFixed(0)],
    ['weaviate_hybrid_p50_ms', formatMs(hybrid.inProcess.latencies.p50)],
    ['weaviate_hybrid_p99_ms', formatMs(hybrid.inProcess.latencies.p99)],
    ['weaviate_hybrid_http_p50_ms', formatMs(hybrid.overHttp.latencies.p50)],
    ['weaviate_hybrid_http_p99_ms', formatMs(hybrid.overHttp.latencies.p99)],
  ];
  for (const percentile of ['p50', 'p99'] as const) {
    metrics.push([
      `weaviate_to_embedded_hybrid_${percentile}_ratio`,
      latencyRatio(hybrid.inProcess, embedded.inProcess, percentile).toFixed(2),
    ]);
    metrics.push([
      `weaviate_to_embedded_hybrid_http_${percentile}_ratio`,
      latencyRatio(hybrid.overHttp, embedded.overHttp, percentile).toFixed(2),
    ]);
  }
  metrics.push([
    `weaviate_hybrid_overlap_at_${hitsPerSearch}`,
    sharedHitShare(hybrid.inProcess.hitIds, embedded.inProcess.hitIds).toFixed(4),
  ]);
  if (footprint) {
    metrics.push(['weaviate_peak_resident_mb', megabytes(footprint.peakResidentBytes).toFixed(0)]);
    metrics.push(['weaviate_data_mb', megabytes(footprint.dataBytes).toFixed(0)]);
  }
  return metrics;
}

function printTarget(description: string, measured: number, limit: number): void {
  console.log(`${description}: ${formatMs(measured)} ${measured <= limit ? 'PASS' : 'MISS'}`);
}

/** What GraphQL over HTTP adds at p50, as the difference of the two paths' medians. */
function overhead(run: PairedRun): number {
  return run.overHttp.latencies.p50 - run.inProcess.latencies.p50;
}

/**
 * What ragql's GraphQL path costs beyond any HTTP API's round trip on this machine, in the same
 * condition (right after a search): the part of the overhead ragql's code can change.
 */
function beyondHttpFloor(run: PairedRun, bareHttp: BareHttpFloor): number {
  return overhead(run) - bareHttp.afterSearch.p50;
}

function ratio(run: PairedRun): number {
  return run.overHttp.latencies.p50 / run.inProcess.latencies.p50;
}

/** `run`'s percentile as a multiple of `baseline`'s. */
function latencyRatio(run: MeasuredRun, baseline: MeasuredRun, percentile: 'p50' | 'p99'): number {
  return run.latencies[percentile] / baseline.latencies[percentile];
}

/** For how many queries two runs returned the same hits in the same order. */
function sameRankings(runs: readonly string[][], others: readonly string[][]): number {
  return runs.filter((ids, position) => {
    const other = others[position];
    return other !== undefined && ids.length === other.length && ids.every((id, rank) => id === other[rank]);
  }).length;
}

/**
 * The share of the hits in `lists` that the list of the same query in `reference` holds too: with
 * an exact scan as the lists, the recall of the reference's search.
 */
function sharedHitShare(lists: readonly string[][], reference: readonly string[][]): number {
  let shared = 0;
  let total = 0;
  for (const [position, ids] of lists.entries()) {
    const referenceIds = new Set(reference[position]);
    shared += ids.filter((id) => referenceIds.has(id)).length;
    total += ids.length;
  }
  return shared / total;
}

function formatMs(milliseconds: number): string {
  return milliseconds.toFixed(2);
}

function megabytes(bytes: number): number {
  return bytes / 1024 / 1024;
}

/** The SQLite file and its write-ahead log, which holds recent writes until a checkpoint. */
function storeFileBytes(storePath: string): number {
  return [storePath, `${storePath}-wal`]
    .filter((path) => existsSync(path))
    .reduce((sum, path) => sum + statSync(path).size, 0);
}

// ---------------------------------------------------------------------------------------------
// Measuring

/**
 * Binds the store to the workload's space and writes the corpus to the default tenant. Times only
 * the store writes: generating text, hashes and vectors happens before each call.
 */
async function writeCorpus(
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

/**
 * Runs every query in process and over GraphQL, one right after the other, alternating which
 * goes first so neither path gains from running second on warm caches.
 */
async function measureBothPaths(
  store: TenantStore,
  url: string,
  mode: SearchModeUnderTest,
  warmup: readonly BenchQuery[],
  measured: readonly BenchQuery[],
): Promise<PairedRun> {
  const searchInProcess = (query: BenchQuery) => searchStore(store, query, mode.alpha, []);
  const searchOverGraphql = (query: BenchQuery) => searchOverHttp(url, query.text, mode);
  for (const query of warmup) {
    await searchInProcess(query);
    await searchOverGraphql(query);
  }
  const local: Timed<string[]>[] = [];
  const remote: Timed<string[]>[] = [];
  for (const [position, query] of measured.entries()) {
    if (position % 2 === 0) {
      local.push(await timed(() => searchInProcess(query)));
      remote.push(await timed(() => searchOverGraphql(query)));
    } else {
      remote.push(await timed(() => searchOverGraphql(query)));
      local.push(await timed(() => searchInProcess(query)));
    }
  }
  return {
    mode,
    inProcess: toMeasuredRun(local),
    overHttp: toMeasuredRun(remote),
    addedByGraphql: summarizeLatencies(
      remote.map((run, position) => run.milliseconds - (local[position]?.milliseconds ?? Number.NaN)),
    ),
  };
}

async function measureFilteredHybrid(
  store: TenantStore,
  warmup: readonly BenchQuery[],
  measured: readonly BenchQuery[],
): Promise<MeasuredRun> {
  const search = (query: BenchQuery) => searchStore(store, query, hybridAlpha, topicFilter(query));
  for (const query of warmup) await search(query);
  const runs: Timed<string[]>[] = [];
  for (const query of measured) runs.push(await timed(() => search(query)));
  return toMeasuredRun(runs);
}

function toMeasuredRun(runs: readonly Timed<string[]>[]): MeasuredRun {
  return {
    latencies: summarizeLatencies(runs.map((run) => run.milliseconds)),
    hitIds: runs.map((run) => run.value),
  };
}

/** One store search; returns the hits' chunk ids. */
async function searchStore(
  store: TenantStore,
  query: BenchQuery,
  alpha: number,
  filter: Filter,
): Promise<string[]> {
  const hits = await store.search({
    text: query.text,
    vector: alpha === 0 ? undefined : query.vector,
    alpha,
    fusion: 'relativeScore',
    limit: hitsPerSearch,
    filter,
  });
  return hits.map((hit) => hit.chunk.id);
}

/**
 * The true nearest chunks of each query, the truth vector search is measured against: sqlite-vec's
 * exact k-nearest scan over the same stored vectors, through a connection of its own.
 */
function exactNearest(storePath: string, queries: readonly BenchQuery[]): string[][] {
  const database = new Database(storePath, { readonly: true });
  try {
    sqliteVec.load(database);
    const nearest = database.prepare(
      `SELECT c.id FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid
       WHERE v.embedding MATCH ? AND k = ${hitsPerSearch} ORDER BY v.distance`,
    );
    return queries.map(
      (query) =>
        nearest
          .pluck()
          .all(
            Buffer.from(query.vector.buffer, query.vector.byteOffset, query.vector.byteLength),
          ) as string[],
    );
  } finally {
    database.close();
  }
}

function topicFilter(query: BenchQuery): Filter {
  return [{ field: 'metadata.topic', operator: 'eq', value: query.topic }];
}

/**
 * The floor under any HTTP API on this machine: a bare node:http server answering a fixed body the
 * size of a search response, called with the same client and request body as the GraphQL
 * runs. What the GraphQL runs take beyond it is ragql's own.
 */
async function measureBareHttpRoundTrip(
  warmupCount: number,
  count: number,
  /** Runs, untimed, before each round trip. */
  beforeEach?: (round: number) => Promise<unknown>,
): Promise<LatencySummary> {
  const responseBody = JSON.stringify({
    data: {
      search: {
        mode: 'HYBRID',
        hits: Array.from({ length: hitsPerSearch }, (_, index) => ({
          score: 0.5,
          chunk: { id: `doc#${index}` },
        })),
      },
    },
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(responseBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const roundTrip = () =>
    postJson(url, { query: searchOperation, variables: { query: 'bare round trip', alpha: hybridAlpha } });
  try {
    for (let round = 0; round < warmupCount; round++) await roundTrip();
    const runs: Timed<unknown>[] = [];
    for (let round = 0; round < count; round++) {
      await beforeEach?.(round);
      runs.push(await timed(roundTrip));
    }
    return summarizeLatencies(runs.map((run) => run.milliseconds));
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const searchOperation = `query BenchSearch($query: String!, $alpha: Float!) {
  search(query: $query, limit: ${hitsPerSearch}, alpha: $alpha) { mode hits { score chunk { id } } }
}`;

interface SearchResponse {
  data?: { search: { mode: string; hits: { score: number; chunk: { id: string } }[] } } | null;
  errors?: { message: string }[];
}

/** One search as a frontend sends it; returns the hits' chunk ids. */
async function searchOverHttp(url: string, text: string, mode: SearchModeUnderTest): Promise<string[]> {
  const response = await postJson(url, {
    query: searchOperation,
    variables: { query: text, alpha: mode.alpha },
  });
  const body = response.body as SearchResponse;
  if (response.status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`GraphQL search failed (${response.status}): ${JSON.stringify(body.errors)}`);
  }
  if (body.data.search.mode !== mode.graphqlMode) {
    throw new Error(`GraphQL ran ${body.data.search.mode} where ${mode.graphqlMode} was asked`);
  }
  return body.data.search.hits.map((hit) => hit.chunk.id);
}

// ---------------------------------------------------------------------------------------------
// The server

/**
 * ragql on a free loopback port, with the services the server would build around the benchmark's
 * store and an embedder that returns the precomputed vector of each benchmark query: GraphQL then
 * searches exactly the vectors the in-process run searched, and the difference is GraphQL and
 * HTTP alone.
 */
async function startBenchServer(store: StoreEngine, queryEmbedder: Embedder): Promise<RunningServer> {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const logger = createLogger('silent');
  return startServer({
    host: '127.0.0.1',
    port: 0,
    http: config.http,
    services: assembleServices({
      store,
      embedder: queryEmbedder,
      router: singleModelRouter(createExtractiveModel()),
      plugins: await createPluginRegistry(config.plugins),
      ...anonymousAccess(logger),
      config,
      logger,
    }),
    logger,
  });
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

await main();

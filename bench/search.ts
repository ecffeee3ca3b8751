/**
 * Search latency on a synthetic corpus: builds an embedded store of N chunks with D-dimensional
 * vectors, then times keyword, vector and hybrid search in process (store.search) and through
 * GraphQL over HTTP on loopback, each query both ways back to back, and prints p50/p99 per mode
 * against the targets. It prints, it does not assert: the exit code is 0 unless something crashes.
 *
 *   npm run bench:search -- [--chunks 100000] [--dimensions 384] [--queries 200]
 *
 * The corpus is generated from a fixed seed, so two runs with the same arguments search the same
 * data: made-up words with a Zipf-like frequency, documents that lean on their cluster's words,
 * and vectors clustered around random centroids, so both BM25 and nearest neighbours rank
 * meaningfully. Queries do not depend on --chunks.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import {
  type DocumentToStore,
  defaultTenant,
  type Embedder,
  type Filter,
  type TenantStore,
} from '../src/ports.ts';
import { createExtractiveModel } from '../src/providers/extractive.ts';
import type { RagqlServices } from '../src/rag/index.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { assembleServices } from '../src/services.ts';
import { defaultTenantFileName, EmbeddedStore } from '../src/stores/embedded/embedded-store.ts';
import { type LatencySummary, summarizeLatencies, type Timed, timed } from './support/latency.ts';
import { closeConnections, postJson } from './support/post-json.ts';

const seed = 20_240_601;
const vocabularySize = 5000;
const zipfExponent = 1;
/** The most frequent words behave like function words; queries skip them, as real queries mostly do. */
const queryWordsSkipTopRanks = 100;
const clusterCount = 50;
const topicCount = 10;
const wordsPerCluster = 40;
/** The share of a chunk's words drawn from its cluster's own words rather than the whole vocabulary. */
const clusterWordShare = 0.2;
/** Norm of the Gaussian noise added to a centroid: about cos 0.7 between a chunk and its centroid. */
const chunkVectorNoise = 1;
const queryVectorNoise = 0.5;
const documentsPerUpsert = 500;
const warmupQueries = 20;
const hitsPerSearch = 10;
const hybridAlpha = 0.5;
const targets = { hybridP50Ms: 15, graphqlOverheadP50Ms: 1.5, atChunks: 100_000 };

interface BenchOptions {
  chunks: number;
  dimensions: number;
  queries: number;
}

type Random = () => number;

interface CorpusModel {
  /** Made-up words, most frequent first. */
  vocabulary: string[];
  /** Running sums of the Zipf weights of the vocabulary, for sampling by rank. */
  zipfCumulative: Float64Array;
  clusterWords: string[][];
  centroids: Float32Array[];
}

interface BenchQuery {
  text: string;
  vector: Float32Array;
  topic: string;
}

interface SearchModeUnderTest {
  name: 'keyword' | 'vector' | 'hybrid';
  alpha: number;
  /** What the GraphQL API must report as having run. */
  graphqlMode: 'KEYWORD' | 'VECTOR' | 'HYBRID';
}

const searchModes: SearchModeUnderTest[] = [
  { name: 'keyword', alpha: 0, graphqlMode: 'KEYWORD' },
  { name: 'vector', alpha: 1, graphqlMode: 'VECTOR' },
  { name: 'hybrid', alpha: hybridAlpha, graphqlMode: 'HYBRID' },
];

interface MeasuredRun {
  latencies: LatencySummary;
  /** Chunk ids of each measured query's hits, in rank order. */
  hitIds: string[][];
}

/** One mode measured both ways, query by query, so both paths run under the same machine load. */
interface PairedRun {
  mode: SearchModeUnderTest;
  inProcess: MeasuredRun;
  overHttp: MeasuredRun;
  /** Per query: the HTTP time minus the in-process time. */
  addedByGraphql: LatencySummary;
}

async function main(): Promise<void> {
  const options = readOptions();
  const dataDir = mkdtempSync(join(tmpdir(), 'ragql-bench-search-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  // A run takes minutes and leaves hundreds of megabytes behind: clean up on Ctrl-C too.
  process.once('SIGINT', () => {
    removeDataDir();
    process.exit(130);
  });
  const storePath = join(dataDir, defaultTenantFileName);
  let store: EmbeddedStore | undefined;
  let server: RunningServer | undefined;
  try {
    store = new EmbeddedStore({ dataDir });
    printHeader(options);
    const model = createCorpusModel(options.dimensions, mulberry32(seed));
    const queries = generateQueries(model, warmupQueries + options.queries, mulberry32(seed + 2));
    const warmup = queries.slice(0, warmupQueries);
    const measured = queries.slice(warmupQueries);

    await store.bindEmbeddingSpace({
      provider: 'bench',
      modelId: 'synthetic',
      dimensions: options.dimensions,
    });
    const documents = store.forTenant(defaultTenant);
    const ingestChunksPerSecond = await ingestSyntheticCorpus(documents, model, options.chunks);
    console.log(`  store file ${megabytes(storeFileBytes(storePath)).toFixed(0)} MB`);

    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: benchServices(store, precomputedQueryEmbedder(queries, options.dimensions)),
      logger: createLogger('silent'),
    });
    process.stderr.write('  ... measuring a bare HTTP round trip\n');
    const bareHttp = await measureBareHttpRoundTrip(warmup.length, measured.length);
    const paired: PairedRun[] = [];
    for (const mode of searchModes) {
      process.stderr.write(`  ... measuring ${mode.name} search\n`);
      paired.push(await measureBothPaths(documents, server.graphqlUrl, mode, warmup, measured));
    }
    process.stderr.write('  ... measuring filtered hybrid search\n');
    const filtered = await measureFilteredHybrid(documents, warmup, measured);

    const vectorRun = paired.find((run) => run.mode.name === 'vector');
    const vectorRecall = vectorRun
      ? exactRecall(storePath, measured, vectorRun.inProcess.hitIds)
      : Number.NaN;

    printInProcessSection(paired, filtered, warmup.length, measured.length);
    console.log(
      `  vector recall@${hitsPerSearch} against an exact scan (sqlite-vec, same file): ${vectorRecall.toFixed(4)}`,
    );
    printGraphqlSection(server.graphqlUrl, paired, bareHttp);
    printSummary(options, ingestChunksPerSecond, paired, filtered, bareHttp, vectorRecall);
  } finally {
    closeConnections();
    await server?.close();
    await store?.close();
    removeDataDir();
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
    },
  });
  return {
    chunks: positiveInteger('--chunks', values.chunks),
    dimensions: positiveInteger('--dimensions', values.dimensions),
    queries: positiveInteger('--queries', values.queries),
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
      `(Zipf), ${clusterCount} vector clusters, seed ${seed}`,
  );
  console.log(
    `  machine: ${processors.length} x ${processors[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ` +
      `load average ${oneMinuteLoad()} (other processes on the machine skew the figures)`,
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

function printGraphqlSection(url: string, paired: readonly PairedRun[], bareHttp: LatencySummary): void {
  console.log(
    `\nGraphQL: POST ${url}, node:http client on one kept-alive connection, the same queries and vectors, ` +
      'each query timed right before or after its in-process run',
  );
  console.log(
    `  ${'bare HTTP'.padEnd(17)} p50 ${formatMs(bareHttp.p50)} ms   p99 ${formatMs(bareHttp.p99)} ms` +
      '   (baseline: node:http server answering a fixed JSON body, same client)',
  );
  for (const run of paired) {
    printLatencyLine(run.mode.name, run.overHttp);
    const agreeing = run.overHttp.hitIds.filter((ids, position) =>
      sameIds(ids, run.inProcess.hitIds[position]),
    ).length;
    console.log(
      `  ${''.padEnd(17)} ${ratio(run).toFixed(2)}x in-process p50: GraphQL adds ${formatMs(overhead(run))} ms ` +
        `at p50 (median per-query difference ${formatMs(run.addedByGraphql.p50)} ms); ` +
        `same hits as in process for ${agreeing}/${run.overHttp.hitIds.length} queries`,
    );
  }
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
  bareHttp: LatencySummary,
  vectorRecall: number,
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
  metrics.push(['bare_http_round_trip_p50_ms', formatMs(bareHttp.p50)]);
  for (const run of paired) {
    metrics.push([`graphql_overhead_p50_ms_${run.mode.name}`, formatMs(overhead(run))]);
    metrics.push([`graphql_overhead_p50_ratio_${run.mode.name}`, ratio(run).toFixed(2)]);
    metrics.push([`graphql_overhead_paired_median_ms_${run.mode.name}`, formatMs(run.addedByGraphql.p50)]);
  }
  console.log('\nsummary');
  for (const [metric, value] of metrics) console.log(`${metric}=${value}`);

  console.log('\ntargets (informational)');
  const hybrid = paired.find((run) => run.mode.name === 'hybrid');
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

function printTarget(description: string, measured: number, limit: number): void {
  console.log(`${description}: ${formatMs(measured)} ${measured <= limit ? 'PASS' : 'MISS'}`);
}

/** What GraphQL over HTTP adds at p50, as the difference of the two paths' medians. */
function overhead(run: PairedRun): number {
  return run.overHttp.latencies.p50 - run.inProcess.latencies.p50;
}

function ratio(run: PairedRun): number {
  return run.overHttp.latencies.p50 / run.inProcess.latencies.p50;
}

function sameIds(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((id, position) => id === b[position]);
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

/** Times only the store writes: generating text, hashes and vectors happens before each call. */
async function ingestSyntheticCorpus(
  store: TenantStore,
  model: CorpusModel,
  chunkTotal: number,
): Promise<number> {
  console.log('\ningestion: upsertDocuments, vectors precomputed (no embedding)');
  let writeMs = 0;
  let written = 0;
  let documents = 0;
  let nextProgress = 0.1;
  for (const batch of generateDocumentBatches(model, chunkTotal, mulberry32(seed + 1))) {
    const started = performance.now();
    await store.upsertDocuments(batch);
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
  return chunksPerSecond;
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
 * The share of the true nearest chunks that vector search returned: the truth is sqlite-vec's
 * exact k-nearest scan over the same stored vectors, through a connection of its own.
 */
function exactRecall(
  storePath: string,
  queries: readonly BenchQuery[],
  returned: readonly string[][],
): number {
  const database = new Database(storePath, { readonly: true });
  try {
    sqliteVec.load(database);
    const nearest = database.prepare(
      `SELECT c.id FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid
       WHERE v.embedding MATCH ? AND k = ${hitsPerSearch} ORDER BY v.distance`,
    );
    let found = 0;
    for (const [position, query] of queries.entries()) {
      const truth = new Set(
        nearest
          .pluck()
          .all(
            Buffer.from(query.vector.buffer, query.vector.byteOffset, query.vector.byteLength),
          ) as string[],
      );
      found += (returned[position] ?? []).filter((id) => truth.has(id)).length;
    }
    return found / (queries.length * hitsPerSearch);
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
async function measureBareHttpRoundTrip(warmupCount: number, count: number): Promise<LatencySummary> {
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
    for (let round = 0; round < count; round++) runs.push(await timed(roundTrip));
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
// Services for the server

/**
 * The services the server would build, around the benchmark's store, with an embedder that
 * returns the precomputed vector of each benchmark query: GraphQL then searches exactly the
 * vectors the in-process run searched, and the difference is GraphQL and HTTP alone.
 */
function benchServices(store: EmbeddedStore, embedder: Embedder): RagqlServices {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  return assembleServices({
    store,
    embedder,
    chatModel: createExtractiveModel(),
    config,
    logger: createLogger('silent'),
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

// ---------------------------------------------------------------------------------------------
// Synthetic corpus

function createCorpusModel(dimensions: number, random: Random): CorpusModel {
  const vocabulary = generateVocabulary(vocabularySize, random);
  return {
    vocabulary,
    zipfCumulative: zipfCumulativeWeights(vocabularySize, zipfExponent),
    clusterWords: Array.from({ length: clusterCount }, () =>
      Array.from({ length: wordsPerCluster }, () => pickContentWord(vocabulary, random)),
    ),
    centroids: Array.from({ length: clusterCount }, () => randomUnitVector(dimensions, random)),
  };
}

/** Pronounceable, unique words of two to four consonant-vowel syllables: no stopword, no real word's stem. */
function generateVocabulary(size: number, random: Random): string[] {
  const consonants = 'bdfgklmnprstvz';
  const vowels = 'aeiou';
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + randomInt(random, 3);
    let word = '';
    for (let syllable = 0; syllable < syllables; syllable++) {
      word += pick(consonants, random) + pick(vowels, random);
    }
    words.add(word);
  }
  return [...words];
}

function zipfCumulativeWeights(size: number, exponent: number): Float64Array {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank++) {
    total += 1 / (rank + 1) ** exponent;
    cumulative[rank] = total;
  }
  return cumulative;
}

function zipfWord(model: CorpusModel, random: Random): string {
  const cumulative = model.zipfCumulative;
  const target = random() * (cumulative[cumulative.length - 1] ?? 0);
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] ?? 0) < target) low = middle + 1;
    else high = middle;
  }
  return model.vocabulary[low] ?? '';
}

/** A word from below the most frequent ranks, uniformly: the kind of word people search for. */
function pickContentWord(vocabulary: readonly string[], random: Random): string {
  const rank = queryWordsSkipTopRanks + randomInt(random, vocabulary.length - queryWordsSkipTopRanks);
  return vocabulary[rank] ?? '';
}

function* generateDocumentBatches(
  model: CorpusModel,
  chunkTotal: number,
  random: Random,
): Generator<DocumentToStore[]> {
  let chunksLeft = chunkTotal;
  let documentIndex = 0;
  let batch: DocumentToStore[] = [];
  while (chunksLeft > 0) {
    const chunkCount = Math.min(chunksLeft, 2 + randomInt(random, 7));
    batch.push(generateDocument(model, documentIndex, chunkCount, random));
    chunksLeft -= chunkCount;
    documentIndex++;
    if (batch.length === documentsPerUpsert) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A document from one cluster: its chunks lean on the cluster's words and their vectors on its centroid. */
function generateDocument(
  model: CorpusModel,
  index: number,
  chunkCount: number,
  random: Random,
): DocumentToStore {
  const cluster = randomInt(random, clusterCount);
  const id = `doc-${String(index).padStart(7, '0')}`;
  const title = capitalize(
    Array.from({ length: 3 + randomInt(random, 3) }, () => chunkWord(model, cluster, random)).join(' '),
  );
  const metadata = { topic: topicOf(cluster), year: 2000 + randomInt(random, 25) };
  const texts = Array.from({ length: chunkCount }, () => generateChunkText(model, cluster, random));
  const content = texts.join(' ');
  let offset = 0;
  const chunks = texts.map((text, chunkIndex) => {
    const startOffset = offset;
    offset += text.length + 1;
    return {
      id: `${id}#${chunkIndex}`,
      documentId: id,
      index: chunkIndex,
      content: text,
      startOffset,
      endOffset: startOffset + text.length,
      contentHash: sha256(text),
      embedding: noisyUnitVector(centroidOf(model, cluster), chunkVectorNoise, random),
    };
  });
  return {
    id,
    title,
    source: `synthetic://${id}`,
    metadata,
    contentHash: sha256(content),
    revisionHash: sha256(JSON.stringify([content, title, metadata])),
    chunkCount,
    chunks,
  };
}

/** 60 to 120 words in sentences of 6 to 15. */
function generateChunkText(model: CorpusModel, cluster: number, random: Random): string {
  let wordsLeft = 60 + randomInt(random, 61);
  const sentences: string[] = [];
  while (wordsLeft > 0) {
    const length = Math.min(wordsLeft, 6 + randomInt(random, 10));
    const words = Array.from({ length }, () => chunkWord(model, cluster, random));
    sentences.push(`${capitalize(words.join(' '))}.`);
    wordsLeft -= length;
  }
  return sentences.join(' ');
}

function chunkWord(model: CorpusModel, cluster: number, random: Random): string {
  return random() < clusterWordShare
    ? pick(model.clusterWords[cluster] ?? [], random)
    : zipfWord(model, random);
}

/** Queries of 2 to 4 words, half from one cluster's words, with a vector near that cluster's centroid. */
function generateQueries(model: CorpusModel, count: number, random: Random): BenchQuery[] {
  const queries = new Map<string, BenchQuery>();
  while (queries.size < count) {
    const cluster = randomInt(random, clusterCount);
    const words = Array.from({ length: 2 + randomInt(random, 3) }, () =>
      random() < 0.5
        ? pick(model.clusterWords[cluster] ?? [], random)
        : pickContentWord(model.vocabulary, random),
    );
    const text = words.join(' ');
    if (queries.has(text)) continue;
    const vector = noisyUnitVector(centroidOf(model, cluster), queryVectorNoise, random);
    queries.set(text, { text, vector, topic: topicOf(cluster) });
  }
  return [...queries.values()];
}

function topicOf(cluster: number): string {
  return `topic-${cluster % topicCount}`;
}

function centroidOf(model: CorpusModel, cluster: number): Float32Array {
  const centroid = model.centroids[cluster];
  if (!centroid) throw new Error(`no centroid for cluster ${cluster}`);
  return centroid;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness and vectors

/** mulberry32: a tiny, fast 32-bit PRNG, good enough for test data; returns floats in [0, 1). */
function mulberry32(seedValue: number): Random {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function pick<T>(items: ArrayLike<T>, random: Random): T {
  const item = items[randomInt(random, items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A standard normal sample (Box-Muller). */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function randomUnitVector(dimensions: number, random: Random): Float32Array {
  return normalized(Float32Array.from({ length: dimensions }, () => gaussian(random)));
}

/** The centroid plus Gaussian noise of about norm `noise`, scaled back to unit length. */
function noisyUnitVector(centroid: Float32Array, noise: number, random: Random): Float32Array {
  const scale = noise / Math.sqrt(centroid.length);
  return normalized(centroid.map((value) => value + scale * gaussian(random)));
}

function normalized(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares) || 1;
  return vector.map((value) => value / norm);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

await main();

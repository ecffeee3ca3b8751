/**
 * What the benchmark prints to stdout: the sections (what ran where, each mode's latencies on both
 * paths) and the summary, one metric=value line each for comparing runs, with the targets.
 */
import { cpus, loadavg } from 'node:os';
import { clusterCount, corpusSeed, topicCount, vocabularySize } from '../support/synthetic-corpus.ts';
import { formatMs, megabytes } from './format.ts';
import type { BenchOptions } from './options.ts';
import type { StoreRun } from './other-store.ts';
import {
  type BareHttpFloor,
  beyondHttpFloor,
  latencyRatio,
  type MeasuredRun,
  overhead,
  type PairedRun,
  ratio,
  sameRankings,
  sharedHitShare,
} from './runs.ts';
import { hitsPerSearch, hybridAlpha, hybridMode } from './search-modes.ts';
import type { WeaviateRun } from './weaviate.ts';

const targets = { hybridP50Ms: 15, graphqlOverheadP50Ms: 1.5, atChunks: 100_000 };

export function printHeader(options: BenchOptions): void {
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

export function printInProcessSection(
  paired: readonly PairedRun[],
  filtered: MeasuredRun,
  vectorRecall: number,
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
  console.log(
    `  vector recall@${hitsPerSearch} against an exact scan (sqlite-vec, same file): ${vectorRecall.toFixed(4)}`,
  );
}

export function printGraphqlSection(
  url: string,
  paired: readonly PairedRun[],
  bareHttp: BareHttpFloor,
): void {
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

export function printWeaviateSection(weaviate: WeaviateRun, embedded: PairedRun): void {
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

/** Each mode on PostgreSQL beside the embedded store's run of the same mode. */
export function printStoreSection(other: StoreRun, embedded: readonly PairedRun[]): void {
  console.log(
    `\nsearch on ${other.label} (${other.description}): limit ${hitsPerSearch}, the same queries and vectors; ` +
      `in process (the store's search) and through a second ragql (POST ${other.graphqlUrl}), paired as above`,
  );
  for (const run of other.paired) {
    const baseline = embedded.find((candidate) => candidate.mode === run.mode);
    console.log(`${run.mode.name}:`);
    printLatencyLine('in process', run.inProcess);
    printOverHttp('GraphQL', run);
    if (!baseline) continue;
    const times = (side: 'inProcess' | 'overHttp', percentile: 'p50' | 'p99') =>
      `${percentile} ${latencyRatio(run[side], baseline[side], percentile).toFixed(2)}x`;
    console.log(
      `  ${`${other.label}/embedded`.padEnd(17)} in process ${times('inProcess', 'p50')}   ${times('inProcess', 'p99')}` +
        `   GraphQL ${times('overHttp', 'p50')}   ${times('overHttp', 'p99')}`,
    );
    console.log(
      `  top-${hitsPerSearch} overlap with the embedded store: ` +
        `${sharedHitShare(run.inProcess.hitIds, baseline.inProcess.hitIds).toFixed(4)}`,
    );
  }
}

function storeMetrics(other: StoreRun): [string, string][] {
  return [
    [`${other.kind}_ingest_chunks_per_second`, other.ingestChunksPerSecond.toFixed(0)],
    ...other.paired.flatMap((run): [string, string][] => [
      [`${other.kind}_${run.mode.name}_p50_ms`, formatMs(run.inProcess.latencies.p50)],
      [`${other.kind}_${run.mode.name}_p99_ms`, formatMs(run.inProcess.latencies.p99)],
    ]),
  ];
}

function printLatencyLine(label: string, run: MeasuredRun): void {
  const meanHits = run.hitIds.reduce((sum, ids) => sum + ids.length, 0) / run.hitIds.length;
  console.log(
    `  ${label.padEnd(17)} p50 ${formatMs(run.latencies.p50)} ms   p99 ${formatMs(run.latencies.p99)} ms` +
      `   (mean ${meanHits.toFixed(1)} hits)`,
  );
}

export function printSummary(
  options: BenchOptions,
  ingestChunksPerSecond: number,
  paired: readonly PairedRun[],
  filtered: MeasuredRun,
  bareHttp: BareHttpFloor,
  vectorRecall: number,
  onWeaviate: WeaviateRun | undefined,
  otherStores: readonly StoreRun[],
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
  for (const other of otherStores) metrics.push(...storeMetrics(other));
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

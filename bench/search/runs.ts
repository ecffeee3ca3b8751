/** What a measurement yields, and the figures the report derives from two of them. */
import { type LatencySummary, summarizeLatencies, type Timed } from '../support/latency.ts';
import type { SearchModeUnderTest } from './search-modes.ts';

export interface MeasuredRun {
  latencies: LatencySummary;
  /** Chunk ids of each measured query's hits, in rank order. */
  hitIds: string[][];
}

/**
 * What any HTTP API pays on this machine: the round trip alone, warm, and right after a search.
 * A search of a large store evicts the CPU caches, and the round trip that follows runs cold:
 * that is the condition every GraphQL request here is measured in.
 */
export interface BareHttpFloor {
  warm: LatencySummary;
  afterSearch: LatencySummary;
}

/** One mode measured both ways, query by query, so both paths run under the same machine load. */
export interface PairedRun {
  mode: SearchModeUnderTest;
  inProcess: MeasuredRun;
  overHttp: MeasuredRun;
  /** Per query: the HTTP time minus the in-process time. */
  addedByGraphql: LatencySummary;
}

export function toMeasuredRun(runs: readonly Timed<string[]>[]): MeasuredRun {
  return {
    latencies: summarizeLatencies(runs.map((run) => run.milliseconds)),
    hitIds: runs.map((run) => run.value),
  };
}

/** What GraphQL over HTTP adds at p50, as the difference of the two paths' medians. */
export function overhead(run: PairedRun): number {
  return run.overHttp.latencies.p50 - run.inProcess.latencies.p50;
}

/**
 * What ragql's GraphQL path costs beyond any HTTP API's round trip on this machine, in the same
 * condition (right after a search): the part of the overhead ragql's code can change.
 */
export function beyondHttpFloor(run: PairedRun, bareHttp: BareHttpFloor): number {
  return overhead(run) - bareHttp.afterSearch.p50;
}

export function ratio(run: PairedRun): number {
  return run.overHttp.latencies.p50 / run.inProcess.latencies.p50;
}

/** `run`'s percentile as a multiple of `baseline`'s. */
export function latencyRatio(run: MeasuredRun, baseline: MeasuredRun, percentile: 'p50' | 'p99'): number {
  return run.latencies[percentile] / baseline.latencies[percentile];
}

/** For how many queries two runs returned the same hits in the same order. */
export function sameRankings(runs: readonly string[][], others: readonly string[][]): number {
  return runs.filter((ids, position) => {
    const other = others[position];
    return other !== undefined && ids.length === other.length && ids.every((id, rank) => id === other[rank]);
  }).length;
}

/**
 * The share of the hits in `lists` that the list of the same query in `reference` holds too: with
 * an exact scan as the lists, the recall of the reference's search.
 */
export function sharedHitShare(lists: readonly string[][], reference: readonly string[][]): number {
  let shared = 0;
  let total = 0;
  for (const [position, ids] of lists.entries()) {
    const referenceIds = new Set(reference[position]);
    shared += ids.filter((id) => referenceIds.has(id)).length;
    total += ids.length;
  }
  return shared / total;
}

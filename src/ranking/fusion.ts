import type { FusionType } from '../ports.ts';

/**
 * Hybrid fusion with Weaviate's semantics, so the embedded store and Weaviate rank alike:
 * the keyword list is weighted `1 - alpha`, the vector list `alpha`.
 */

/** One retriever's results, best first. */
export interface RankedList {
  weight: number;
  results: readonly { key: number; score: number }[];
}

export interface FusedResult {
  key: number;
  score: number;
}

/** Reciprocal rank fusion's constant, as in Weaviate and the original RRF paper. */
export const reciprocalRankConstant = 60;

/** Each list adds `weight / (rank + 60)` for every result, rank counted from 0. */
export function rankedFusion(lists: readonly RankedList[]): FusedResult[] {
  return sumContributions(lists, (_score, rank) => 1 / (rank + reciprocalRankConstant));
}

/**
 * Each list's scores are min-max normalised to [0, 1] before weighting; a list whose scores are
 * all equal (a single result, say) normalises them to 1, as Weaviate does.
 */
export function relativeScoreFusion(lists: readonly RankedList[]): FusedResult[] {
  const ranges = new Map<RankedList, { min: number; max: number }>();
  for (const list of lists) {
    const scores = list.results.map((result) => result.score);
    ranges.set(list, { min: Math.min(...scores), max: Math.max(...scores) });
  }
  return sumContributions(lists, (score, _rank, list) => {
    const range = ranges.get(list);
    if (!range || range.max === range.min) return 1;
    return (score - range.min) / (range.max - range.min);
  });
}

export function fuse(type: FusionType, lists: readonly RankedList[]): FusedResult[] {
  return type === 'ranked' ? rankedFusion(lists) : relativeScoreFusion(lists);
}

function sumContributions(
  lists: readonly RankedList[],
  contribution: (score: number, rank: number, list: RankedList) => number,
): FusedResult[] {
  const totals = new Map<number, number>();
  for (const list of lists) {
    if (list.weight === 0) continue;
    list.results.forEach((result, rank) => {
      const added = list.weight * contribution(result.score, rank, list);
      totals.set(result.key, (totals.get(result.key) ?? 0) + added);
    });
  }
  // Ties keep the order in which the keys were first seen: keyword results first, by rank.
  return [...totals].map(([key, score]) => ({ key, score })).sort((a, b) => b.score - a.score);
}

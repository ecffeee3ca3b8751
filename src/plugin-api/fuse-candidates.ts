import { rankedFusion } from '../ranking/fusion.ts';
import type { Candidate } from './api.ts';

/**
 * Reciprocal rank fusion of several candidate lists (each best first), deduplicated by chunk: a
 * chunk scores the sum of 1 / (60 + rank) over the lists that found it, as Weaviate's ranked
 * fusion does. Each chunk keeps the candidate of the list that found it first.
 */
export function fuseByRank(lists: readonly (readonly Candidate[])[]): Candidate[] {
  const keys = new Map<string, number>();
  const candidates: Candidate[] = [];
  const ranked = lists.map((list) => ({
    weight: 1,
    results: list.map((candidate) => {
      let key = keys.get(candidate.chunk.id);
      if (key === undefined) {
        key = candidates.push(candidate) - 1;
        keys.set(candidate.chunk.id, key);
      }
      return { key, score: candidate.score };
    }),
  }));
  return rankedFusion(ranked).flatMap(({ key, score }) => {
    const candidate = candidates[key];
    return candidate ? [{ ...candidate, score }] : [];
  });
}

/**
 * Which retrievers found a hybrid hit, read from Weaviate's `explainScore`. Weaviate reports the
 * fused score only; its explanation names each result set that contributed, e.g. (relativeScore)
 *
 *   Hybrid (Result Set keyword,bm25) Document <uuid>: original score 0.70037496, normalized score: 0.5 -
 *   Hybrid (Result Set vector,hybridVector) Document <uuid>: original score 0.9805807, normalized score: 0.5
 *
 * or (ranked) `Hybrid (Result Set vector,hybridVector) Document <uuid> contributed 0.0081967 to the score`.
 * Only the names of the sets are read: the ranked form has no raw scores, so the search takes
 * them from their sources instead (see search.ts). An explanation without a set named, as a
 * future Weaviate might write, leaves both unknown.
 */
export type RetrieversFound = { keyword: boolean; vector: boolean } | 'unknown';

export function retrieversFound(explanation: string | undefined): RetrieversFound {
  const sets = [...(explanation ?? '').matchAll(/Result Set (\w+)/g)].map((match) => match[1]);
  if (sets.length === 0) return 'unknown';
  return { keyword: sets.includes('keyword'), vector: sets.includes('vector') };
}

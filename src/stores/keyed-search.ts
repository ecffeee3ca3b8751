import type { ChunkRecord, SearchHit, SearchRequest } from '../ports.ts';
import { searchMode } from '../ports.ts';
import { fuse } from '../ranking/fusion.ts';

/**
 * A search as the SQL stores run it: each retriever returns chunk keys with scores, fused here
 * with Weaviate's semantics, then the chunks of the keys kept are read once.
 */

/** Candidates each retriever contributes to a hybrid fusion when the limit is smaller. */
export const defaultHybridCandidates = 100;

export interface ScoredKey {
  key: number;
  score: number;
}

export interface KeyedRetrievers {
  /** At most `limit` chunk keys by BM25, best first. */
  keyword(limit: number): ScoredKey[] | Promise<ScoredKey[]>;
  /** At most `limit` chunk keys by cosine similarity to `vector`, best first. */
  vector(vector: Float32Array, limit: number): ScoredKey[] | Promise<ScoredKey[]>;
  /** The chunks of these keys (in any order; a key deleted meanwhile is left out). */
  chunks(keys: readonly number[]): Map<number, ChunkRecord> | Promise<Map<number, ChunkRecord>>;
}

/**
 * Runs what the request's mode asks (keyword-only without vectors, see `searchMode`); a hybrid
 * search takes `hybridCandidates` from each retriever when the limit is smaller.
 */
export async function keyedSearch(
  request: SearchRequest,
  canSearchVectors: boolean,
  hybridCandidates: number,
  retrievers: KeyedRetrievers,
): Promise<SearchHit[]> {
  const mode = searchMode(request.alpha, request.vector !== undefined && canSearchVectors);
  const useVector = mode !== 'KEYWORD';
  const useKeyword = mode !== 'VECTOR';
  const hybrid = useKeyword && useVector;
  const candidates = hybrid ? Math.max(request.limit, hybridCandidates) : request.limit;
  // One after the other: a store may read both, and then the chunks, through one connection in
  // one snapshot, so that a write committed in between cannot give a mix of two revisions.
  const keyword = useKeyword ? await retrievers.keyword(candidates) : [];
  const vector = useVector && request.vector ? await retrievers.vector(request.vector, candidates) : [];
  const ranked = hybrid
    ? fuse(request.fusion, [
        { weight: 1 - request.alpha, results: keyword },
        { weight: request.alpha, results: vector },
      ]).slice(0, request.limit)
    : useVector
      ? vector
      : keyword;
  if (ranked.length === 0) return [];
  const keywordScores = new Map(keyword.map((row) => [row.key, row.score]));
  const vectorScores = new Map(vector.map((row) => [row.key, row.score]));
  const chunks = await retrievers.chunks(ranked.map((row) => row.key));
  return ranked.flatMap((row) => {
    const chunk = chunks.get(row.key);
    if (!chunk) return [];
    return [
      {
        chunk,
        score: row.score,
        keywordScore: keywordScores.get(row.key) ?? null,
        vectorScore: vectorScores.get(row.key) ?? null,
      },
    ];
  });
}

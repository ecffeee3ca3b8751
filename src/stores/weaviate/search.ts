import weaviate, { type FilterValue, type WeaviateNonGenericObject } from 'weaviate-client';
import type { SearchHit, SearchRequest } from '../../ports.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { retrieversFound } from './hybrid-explanation.ts';
import { chunkReturnProperties, toChunkRecord } from './objects.ts';
import type { TenantAccess } from './tenant-access.ts';

/**
 * Search over a tenant's chunks, with the embedded store's choice of retrievers: keyword-only
 * (`bm25`) when alpha is 0 or there is no vector to search with, vector-only (`nearVector`) when
 * alpha is 1, otherwise Weaviate's `hybrid` with ragql's alpha and fusion.
 *
 * Scores: `score` is what Weaviate ranks by: the BM25 score, the cosine similarity (1 - cosine
 * distance), or the fused score, which Weaviate computes with the same formulas as
 * src/stores/embedded/fusion.ts. For hybrid hits Weaviate reports only the fused score, so
 * `vectorScore` is the cosine similarity of the hit's returned vector to the query vector, and
 * `keywordScore` the hit's BM25 score from a second `bm25` call restricted to the hits the
 * keyword retriever found (Weaviate's BM25 statistics ignore filters, so the score is the one the
 * keyword search gives); each is null when that retriever did not find the hit.
 *
 * Among hits of equal score, the order is the embedded store's (see `inFusionOrder`).
 *
 * Hits of chunks that no document record names (a write in progress, or left by one that failed)
 * are dropped, and the search asks again for more when that leaves fewer than it could return.
 */

/** Weaviate's name for a self-provided vector without a name. */
const vectorName = 'default';
/** Searches repeated to replace hits of chunks no record names. */
const maxAttempts = 3;

/** A hit as retrieved; a hybrid hit the keyword retriever found has its BM25 score looked up after. */
interface Found {
  object: WeaviateNonGenericObject;
  score: number;
  keywordScore: number | null | 'look up';
  vectorScore: number | null;
}

export async function searchChunks(access: TenantAccess, request: SearchRequest): Promise<SearchHit[]> {
  const space = await access.context.space();
  const vector = request.alpha > 0 && space !== null ? request.vector : undefined;
  // Weaviate tokenises searchText by whitespace: the query is analysed as the text was.
  const query = [...new Set(analyzeTerms(request.text))].join(' ');
  if (vector === undefined && query === '') return [];
  const mapped = await access.filterFor('chunks', request.filter);
  if (mapped.kind === 'nothing') return [];
  const filters = mapped.kind === 'condition' ? mapped.filter : undefined;

  let limit = request.limit;
  for (let attempt = 1; ; attempt++) {
    const found = await retrieve(access, { query, vector, request, filters, limit });
    const hits = await completeHits(access, query, found);
    const complete = hits.length === found.length || found.length < limit || attempt === maxAttempts;
    if (complete) return hits.sort(inFusionOrder).slice(0, request.limit);
    limit += 2 * (found.length - hits.length);
  }
}

/**
 * Best first, and among equal scores (common in relativeScore fusion, where each list's best and
 * worst normalise to 1 and 0) the embedded store's order, which Weaviate does not keep: hits the
 * keyword retriever found first, by BM25 score, then the others by similarity. For single-retriever
 * searches this is the order Weaviate returned.
 */
function inFusionOrder(a: SearchHit, b: SearchHit): number {
  if (a.score !== b.score) return b.score - a.score;
  if ((a.keywordScore === null) !== (b.keywordScore === null)) return a.keywordScore === null ? 1 : -1;
  if (a.keywordScore !== null && b.keywordScore !== null) return b.keywordScore - a.keywordScore;
  return (b.vectorScore ?? 0) - (a.vectorScore ?? 0);
}

interface Retrieval {
  query: string;
  vector: Float32Array | undefined;
  request: SearchRequest;
  filters: FilterValue | undefined;
  limit: number;
}

async function retrieve(access: TenantAccess, retrieval: Retrieval): Promise<Found[]> {
  const { query, vector, request, filters, limit } = retrieval;
  const returnProperties = [...chunkReturnProperties];
  const empty = () => ({ objects: [] });
  if (vector === undefined) {
    const result = await access.request(
      'run a keyword search',
      ({ chunks }) =>
        chunks.query.bm25(query, {
          queryProperties: ['searchText'],
          filters,
          limit,
          returnProperties,
          returnMetadata: ['score'],
        }),
      { whenTenantMissing: empty },
    );
    return result.objects.map((object) => {
      const score = object.metadata?.score ?? 0;
      return { object, score, keywordScore: score, vectorScore: null };
    });
  }
  if (request.alpha === 1) {
    const result = await access.request(
      'run a vector search',
      ({ chunks }) =>
        chunks.query.nearVector(Array.from(vector), {
          filters,
          limit,
          returnProperties,
          returnMetadata: ['distance'],
        }),
      { whenTenantMissing: empty },
    );
    return result.objects.map((object) => {
      const similarity = 1 - (object.metadata?.distance ?? 1);
      return { object, score: similarity, keywordScore: null, vectorScore: similarity };
    });
  }
  const result = await access.request(
    'run a hybrid search',
    ({ chunks }) =>
      chunks.query.hybrid(query, {
        vector: Array.from(vector),
        alpha: request.alpha,
        fusionType: request.fusion === 'ranked' ? 'Ranked' : 'RelativeScore',
        queryProperties: ['searchText'],
        filters,
        limit,
        returnProperties,
        returnMetadata: ['score', 'explainScore'],
        includeVector: true,
      }),
    { whenTenantMissing: empty },
  );
  return result.objects.map((object) => {
    const found = retrieversFound(object.metadata?.explainScore);
    const byKeyword = found === 'unknown' || found.keyword;
    const byVector = found === 'unknown' || found.vector;
    return {
      object,
      score: object.metadata?.score ?? 0,
      keywordScore: byKeyword && query !== '' ? 'look up' : null,
      vectorScore: byVector ? cosineSimilarity(vector, object.vectors[vectorName]) : null,
    };
  });
}

/**
 * The found chunks whose revision is the one their document's record names, in order, with the
 * BM25 scores of hybrid hits looked up meanwhile.
 */
async function completeHits(
  access: TenantAccess,
  query: string,
  found: readonly Found[],
): Promise<SearchHit[]> {
  if (found.length === 0) return [];
  const documentIds = [...new Set(found.map((hit) => String(hit.object.properties.documentId)))];
  const lookUp = found.filter((hit) => hit.keywordScore === 'look up').map((hit) => hit.object.uuid);
  const [records, keywordScores] = await Promise.all([
    access.records(documentIds),
    bm25Scores(access, query, lookUp),
  ]);
  return found.flatMap(({ object, score, keywordScore, vectorScore }) => {
    const chunk = toChunkRecord(object.properties);
    const current = records.get(chunk.documentId)?.revisionHash;
    if (current === undefined || current !== object.properties.revisionHash) return [];
    const keyword = keywordScore === 'look up' ? (keywordScores.get(object.uuid) ?? null) : keywordScore;
    return [{ chunk, score, keywordScore: keyword, vectorScore }];
  });
}

/** The BM25 scores of some chunks for the query, by object id. */
async function bm25Scores(
  access: TenantAccess,
  query: string,
  uuids: readonly string[],
): Promise<Map<string, number>> {
  if (uuids.length === 0) return new Map();
  const result = await access.request('score keyword hits', ({ chunks }) =>
    chunks.query.bm25(query, {
      queryProperties: ['searchText'],
      filters: weaviate.filter.byId().containsAny([...uuids]),
      limit: uuids.length,
      returnProperties: [],
      returnMetadata: ['score'],
    }),
  );
  return new Map(result.objects.map((object) => [object.uuid, object.metadata?.score ?? 0]));
}

function cosineSimilarity(query: Float32Array, stored: unknown): number | null {
  if (!Array.isArray(stored) || stored.length !== query.length) return null;
  let dot = 0;
  let queryNorm = 0;
  let storedNorm = 0;
  query.forEach((value, index) => {
    const other = Number(stored[index]);
    dot += value * other;
    queryNorm += value * value;
    storedNorm += other * other;
  });
  return queryNorm === 0 || storedNorm === 0 ? 0 : dot / Math.sqrt(queryNorm * storedNorm);
}

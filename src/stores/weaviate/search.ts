import weaviate, { Filters, type FilterValue, type WeaviateNonGenericObject } from 'weaviate-client';
import { RagqlError } from '../../errors.ts';
import { type SearchHit, type SearchRequest, searchMode } from '../../ports.ts';
import { cosineSimilarity } from '../../ranking/vector-math.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { retrieversFound } from './hybrid-explanation.ts';
import {
  chunkReturnProperties,
  documentKey,
  type StoredRecord,
  toChunkRecord,
  vectorName,
} from './objects.ts';
import { pageLimit, type TenantAccess } from './tenant-access.ts';

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
 * Weaviate reads are no snapshot, and a write (see document-writer.ts) stores its chunks before
 * the record names the write and deletes them only after the record names another. A retrieval
 * that ran while a write stored chunks, judged by a record read after the write switched it, would
 * give part of the new revision, or none of it. So a document's hits count only when its record,
 * read before the retrieval and again after it, named the same write both times: that write's
 * chunks were then all stored throughout the retrieval. Only a retrieval tells which records to
 * read, so the first one only reads them; the next asks Weaviate for no chunks of those documents
 * but the writes read, and so on until the records read after a retrieval are those read before
 * it: two retrievals when nothing is written meanwhile.
 */

/** Retrievals before a search gives up because the documents it finds keep changing. */
const maxAttempts = 4;
/**
 * Retrievals in all, those that only came upon documents not read before included: a filtered
 * vector search is approximate, and the narrower filter of the next retrieval can find others.
 */
const maxRetrievals = 4 * maxAttempts;

/** A hit as retrieved; a hybrid hit the keyword retriever found has its BM25 score looked up after. */
interface Found {
  object: WeaviateNonGenericObject;
  score: number;
  keywordScore: number | null | 'look up';
  vectorScore: number | null;
}

export async function searchChunks(access: TenantAccess, request: SearchRequest): Promise<SearchHit[]> {
  const space = await access.context.space();
  const canSearchVectors = request.vector !== undefined && space !== null;
  const vector = searchMode(request.alpha, canSearchVectors) === 'KEYWORD' ? undefined : request.vector;
  // Weaviate tokenises searchText by whitespace: the query is analysed as the text was.
  const query = [...new Set(analyzeTerms(request.text))].join(' ');
  if (vector === undefined && query === '') return [];
  const mapped = await access.filterFor('chunks', request.filter);
  if (mapped.kind === 'nothing') return [];
  const filters = mapped.kind === 'condition' ? mapped.filter : undefined;

  // The records read before the current retrieval, null for documents that had none.
  const recordsBefore = new Map<string, StoredRecord | null>();
  let limit = request.limit;
  for (let attempt = 1, retrievals = 0; attempt <= maxAttempts && retrievals < maxRetrievals; retrievals++) {
    const found = await retrieve(access, {
      query,
      vector,
      request,
      filters: withWritesRead(filters, recordsBefore),
      limit,
    });
    const documentIds = [...new Set(found.map(documentIdOf))];
    const ofDocumentsRead = found.filter((hit) => recordsBefore.has(documentIdOf(hit)));
    // The filter lets through chunks that lack some of their filter entries ("not this document"
    // holds for them): chunks still being stored, and chunks a node killed mid-write kept without
    // them (see document-writer.ts). They are dropped here, and as they took places, more are asked
    // for when that may have left out some.
    const kept = ofDocumentsRead.filter(
      (hit) => recordsBefore.get(documentIdOf(hit))?.writeId === hit.object.properties.writeId,
    );
    const dropped = ofDocumentsRead.length - kept.length;
    const complete =
      ofDocumentsRead.length === found.length &&
      (dropped === 0 || found.length < limit || limit >= pageLimit);
    // Every record read before is read again: a document whose chunks were deleted is not found.
    const readIds = [...new Set([...recordsBefore.keys(), ...documentIds])];
    const [recordsAfter, keywordScores] = await Promise.all([
      access.records(readIds),
      bm25Scores(access, query, complete ? kept : []),
    ]);
    const differing = readIds.filter(
      (id) => !sameRecord(recordsBefore.get(id), recordsAfter.get(id) ?? null),
    );
    const unchanged = differing.length === 0;
    // A document read before whose record is not as it was; one first read now is no change.
    const changed = differing.some((id) => recordsBefore.has(id));
    if (complete && unchanged) {
      const hits = kept.map(({ object, score, keywordScore, vectorScore }) => ({
        chunk: toChunkRecord(object.properties),
        score,
        keywordScore: keywordScore === 'look up' ? (keywordScores.get(object.uuid) ?? null) : keywordScore,
        vectorScore,
      }));
      return hits.sort(inFusionOrder).slice(0, request.limit);
    }
    for (const id of readIds) recordsBefore.set(id, recordsAfter.get(id) ?? null);
    // Only a change of records costs an attempt. Dropped chunks widen the next retrieval, at least
    // doubling it, so that even the hundreds a crash can leave take a few more retrievals.
    if (changed) attempt++;
    if (dropped > 0) limit = Math.min(pageLimit, Math.max(2 * limit, limit + dropped));
  }
  throw new RagqlError(
    'UPSTREAM_FAILED',
    `The documents the search found kept changing (${maxAttempts} changes, or ${maxRetrievals} retrievals); try again.`,
  );
}

/**
 * The search's filter, narrowed to the write read for each document whose record was read, and
 * to nothing of those that had none.
 */
function withWritesRead(
  filters: FilterValue | undefined,
  records: ReadonlyMap<string, StoredRecord | null>,
): FilterValue | undefined {
  const conditions = [...records].map(([id, record]) => {
    const otherDocument = weaviate.filter.byProperty('documentKey').notEqual(documentKey(id));
    if (record === null) return otherDocument;
    return Filters.or(otherDocument, weaviate.filter.byProperty('writeId').equal(record.writeId));
  });
  const all = filters ? [filters, ...conditions] : conditions;
  return all.length > 1 ? Filters.and(...all) : all[0];
}

function documentIdOf(hit: Found): string {
  return String(hit.object.properties.documentId);
}

/** Whether a document's record is as read before: both absent, or naming the same write. */
function sameRecord(before: StoredRecord | null | undefined, after: StoredRecord | null): boolean {
  if (!before || !after) return before === null && after === null;
  return before.writeId === after.writeId;
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
      vectorScore: byVector ? similarityTo(vector, object.vectors[vectorName]) : null,
    };
  });
}

/** The BM25 scores for the query of the hits that need one looked up, by object id. */
async function bm25Scores(
  access: TenantAccess,
  query: string,
  hits: readonly Found[],
): Promise<Map<string, number>> {
  const uuids = hits.filter((hit) => hit.keywordScore === 'look up').map((hit) => hit.object.uuid);
  if (uuids.length === 0) return new Map();
  const result = await access.request('score keyword hits', ({ chunks }) =>
    chunks.query.bm25(query, {
      queryProperties: ['searchText'],
      filters: weaviate.filter.byId().containsAny(uuids),
      limit: uuids.length,
      returnProperties: [],
      returnMetadata: ['score'],
    }),
  );
  return new Map(result.objects.map((object) => [object.uuid, object.metadata?.score ?? 0]));
}

/** The cosine similarity of the query to a vector Weaviate returned; null when it returned none. */
function similarityTo(query: Float32Array, stored: unknown): number | null {
  if (!Array.isArray(stored) || stored.length !== query.length) return null;
  return cosineSimilarity(query, stored.map(Number));
}

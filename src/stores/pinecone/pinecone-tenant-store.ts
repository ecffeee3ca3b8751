import type { PineconeRecord, RecordMetadata, ScoredPineconeRecord } from '@pinecone-database/pinecone';
import { badInput } from '../../errors.ts';
import type {
  ChunkRecord,
  DocumentPageRequest,
  DocumentRecord,
  DocumentToStore,
  EmbeddingSpace,
  SearchHit,
  SearchRequest,
  TenantStore,
} from '../../ports.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { chunkTerms } from '../bm25-terms.ts';
import { eventLoopTurns } from '../event-loop-turns.ts';
import { defaultHybridCandidates, keyedSearch, type ScoredKey } from '../keyed-search.ts';
import type { SerialQueues } from '../serial-queues.ts';
import { storedVector } from '../stored-vector.ts';
import { allOf, filterFields, type PineconeFilter, pineconeFilter } from './filter-mapping.ts';
import { mostQueryMatches, type PineconeNamespace } from './pinecone-connection.ts';
import {
  chunkMetadata,
  chunkRecordId,
  chunkRecordIds,
  documentIdOf,
  documentMetadata,
  documentRecordId,
  documentRecordPrefix,
  newWriteId,
  orderedKey,
  placeholderVector,
  recordKind,
  type StoredChunk,
  type StoredDocument,
  storedChunkOf,
  storedDocumentOf,
} from './record-layout.ts';
import { type CorpusChange, TenantStatistics } from './tenant-statistics.ts';
import { chunkSparseVector, indexedTerms, querySparseVector, queryTermIndices } from './term-statistics.ts';

export interface WarningLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** What every tenant's store shares: the index's shape, the bound space, the write queues. */
export interface PineconeTenantContext {
  /** Resolves once the index is checked and the space bound; the fields below are read after it. */
  ready(): Promise<unknown>;
  readonly dimensions: number;
  /** The space the store is bound to: null for keyword-only. */
  space(): EmbeddingSpace | null;
  writes: SerialQueues;
  logger: WarningLogger | undefined;
}

/** Pinecone's most metadata per record (docs: operation limits). */
const mostMetadataBytes = 40 * 1024;
/**
 * The dense part of a keyword query: Pinecone needs one with a non-zero value, and this one adds
 * at most its size to a score (stored vectors are unit vectors), far below any BM25 score.
 */
const keywordProbeWeight = 1e-7;
/** Chunk records read by id at a time while a search keeps the current ones. */
const recordsPerRead = 100;
/** Queries run again when a document switched to a new write while one ran. */
const switchRetries = 2;
/** A switch older than this is no write in progress: what is left of other writes are leftovers. */
const recentSwitchMs = 60_000;
/** A vector within this of unit length is stored as it is (and so read back exactly). */
const unitTolerance = 1e-6;

/**
 * One tenant's documents in its Pinecone namespace. Pinecone has no transactions; documents are
 * written as the Weaviate store writes them, so each is stored whole or not at all and readers see
 * its old revision or its new one, never a mix:
 *
 * 1. the new revision's chunks are written under a write id of their own, beside the chunks
 *    readers use, and counted in the tenant's statistics; a chunk counts for readers only when
 *    its write is the one its document record names;
 * 2. the document records are written, naming the new write: this switches each document;
 * 3. the replaced chunks leave the statistics, and are deleted.
 *
 * If step 1 or 2 fails, the records and statistics are put back as they were and this write's
 * chunks removed. A failure in step 3 is logged: the write stands, leaving unused chunks or
 * statistics that count them.
 */
export class PineconeTenantStore implements TenantStore {
  private readonly namespace: PineconeNamespace;
  private readonly context: PineconeTenantContext;
  private readonly statistics: TenantStatistics;

  constructor(namespace: PineconeNamespace, context: PineconeTenantContext) {
    this.namespace = namespace;
    this.context = context;
    this.statistics = new TenantStatistics(namespace, () => context.dimensions);
  }

  async getDocuments(ids: readonly string[]): Promise<(DocumentRecord | null)[]> {
    await this.context.ready();
    const found = await this.documents(ids);
    return ids.map((id) => {
      const stored = found.get(id);
      return stored ? publicDocument(stored) : null;
    });
  }

  /**
   * Pinecone lists ids in byte order, which document record ids keep (record-layout.ts), but it
   * cannot start a listing at an id nor filter one: a page walks the ids from the first, and the
   * filter is a query over each part of them.
   */
  async listDocuments(request: DocumentPageRequest): Promise<DocumentRecord[]> {
    await this.context.ready();
    const filter = pineconeFilter(request.filter);
    if (!filter) return [];
    const after = request.after === undefined ? undefined : orderedKey(request.after);
    const before = request.before === undefined ? undefined : orderedKey(request.before);
    const inRange = (id: string) =>
      (after === undefined || id > after) && (before === undefined || id < before);
    // This process's own writes, which Pinecone may not list yet, merged in at their place in the order.
    let unlisted = this.namespace.recentlyWritten(documentRecordPrefix).filter(inRange);
    const kept: StoredDocument[] = [];
    let token: string | undefined;
    do {
      const page = await this.namespace.listPage(documentRecordPrefix, token);
      token = page.next;
      const last = page.ids.at(-1);
      const covered =
        token === undefined || last === undefined ? unlisted : unlisted.filter((id) => id <= last);
      unlisted = unlisted.slice(covered.length);
      const ids = [...new Set([...page.ids.filter(inRange), ...covered])].sort();
      kept.push(...(await this.matchingDocuments(ids, filter)));
      if (!request.descending && kept.length >= request.limit) break;
      if (before !== undefined && page.ids.some((id) => id >= before)) break;
      // Walking backwards keeps only the last page's worth.
      if (request.descending) kept.splice(0, Math.max(0, kept.length - request.limit));
    } while (token);
    const ordered = request.descending ? kept.slice(-request.limit).reverse() : kept.slice(0, request.limit);
    return ordered.map(publicDocument);
  }

  async getChunks(documentId: string): Promise<ChunkRecord[]> {
    await this.context.ready();
    return (await this.currentChunks(documentId)).map(({ stored }) => stored.chunk);
  }

  async getChunkEmbeddings(documentId: string): Promise<Map<string, Float32Array>> {
    await this.context.ready();
    if (!this.context.space()) return new Map();
    return new Map(
      (await this.currentChunks(documentId)).map(({ stored, values }) => [
        stored.chunk.contentHash,
        Float32Array.from(values, (value) => value * stored.scale),
      ]),
    );
  }

  async upsertDocuments(documents: readonly DocumentToStore[]): Promise<void> {
    await this.context.ready();
    if (documents.length === 0) return;
    const space = this.context.space();
    const recordIds = new Map(documents.map((document) => [document.id, documentRecordId(document.id)]));
    for (const document of documents) {
      for (const chunk of document.chunks) if (space) storedVector(chunk, space.dimensions);
    }
    await this.context.writes.run(this.namespace.name, () => this.writeInOrder(documents, recordIds));
  }

  async deleteDocument(id: string): Promise<boolean> {
    await this.context.ready();
    return this.context.writes.run(this.namespace.name, async () => {
      const stored = (await this.documents([id])).get(id);
      if (!stored) return false;
      const chunkIds = chunkRecordIds(stored);
      const chunks = await this.namespace.fetch(chunkIds);
      await this.namespace.delete([documentRecordId(id)]);
      await this.finish([...chunks.values()], chunkIds);
      // And what writes cut short left of the document, which no record names.
      await this.namespace
        .deleteMatching({ kind: { $eq: recordKind.chunk }, doc: { $eq: id } })
        .catch((error: unknown) => this.warnLeftovers(error));
      return true;
    });
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    await this.context.ready();
    const filter = pineconeFilter(request.filter);
    if (!filter) return [];
    const found = new Map<number, ChunkRecord>();
    const keys = new Map<string, number>();
    const keyOf = (stored: StoredChunk) => {
      let key = keys.get(stored.chunk.id);
      if (key === undefined) {
        key = keys.size;
        keys.set(stored.chunk.id, key);
        found.set(key, stored.chunk);
      }
      return key;
    };
    return keyedSearch(request, this.context.space() !== null, defaultHybridCandidates, {
      keyword: async (limit) => {
        const indices = queryTermIndices(request.text);
        if (indices.length === 0) return [];
        const probe = placeholderVector(this.context.dimensions).map((value) => value * keywordProbeWeight);
        // The statistics are read for each query: one run again after a write switched must see
        // the terms of the write it switched to.
        return this.ranked(limit, filter, keyOf, async (topK, clauses) => {
          const statistics = await this.statistics.frequencies(indices);
          const sparseVector = querySparseVector(indices, statistics.chunks, statistics.frequencies);
          if (!sparseVector) return [];
          const hasTerm = { t: { $in: sparseVector.indices.map(String) } };
          return this.namespace.query({
            vector: probe,
            sparseVector,
            topK,
            filter: allOf(...clauses, hasTerm),
          });
        });
      },
      vector: (vector, limit) => {
        const unit = [...unitVector(vector).values];
        return this.ranked(limit, filter, keyOf, (topK, clauses) =>
          this.namespace.query({ vector: unit, topK, filter: allOf(...clauses) }),
        );
      },
      chunks: (wanted) =>
        new Map(
          wanted.flatMap((key) => {
            const chunk = found.get(key);
            return chunk ? [[key, chunk] as const] : [];
          }),
        ),
    });
  }

  /**
   * The best `limit` current chunks Pinecone ranks, as keys and scores. Pinecone answers with ids
   * and scores only (a query's result may not pass 4 MB, and chunk records hold up to 40 KB of
   * metadata), and the records are read by id, in order, a part at a time, until `limit` are kept.
   * What Pinecone ranks can include chunks of writes not current (a write in progress or cut
   * short) and, for string ranges, chunks the filter's residual refuses: a query that loses some
   * is asked again for more. A document switched to a new write between the query and the reads
   * would be found with none of its current chunks, or by chunks already deleted: the query is run
   * again (`switchRetries` times), as the new write's chunks were stored before the switch.
   */
  private async ranked(
    limit: number,
    filter: PineconeFilter,
    keyOf: (stored: StoredChunk) => number,
    /** Pinecone's best `topK` ids for records meeting all of `clauses`. */
    query: (topK: number, clauses: readonly object[]) => Promise<ScoredPineconeRecord<RecordMetadata>[]>,
  ): Promise<ScoredKey[]> {
    const clauses = [{ kind: { $eq: recordKind.chunk } }, ...filter.clauses];
    let topK = limit;
    for (let switches = 0; ; ) {
      const matches = await query(topK, clauses);
      const kept: { stored: StoredChunk; score: number }[] = [];
      let switched = false;
      for (let start = 0; start < matches.length && kept.length < limit; start += recordsPerRead) {
        const part = matches.slice(start, start + recordsPerRead);
        const records = await this.namespace.fetch(part.map((match) => match.id));
        const candidates = part.flatMap((match) => {
          const metadata = records.get(match.id)?.metadata;
          const stored = storedChunkOf(metadata);
          if (!stored || (filter.residual && !filter.residual(metadata ?? {}))) return [];
          return [{ stored, score: match.score ?? 0 }];
        });
        const current = await this.documents([
          ...new Set(candidates.map(({ stored }) => stored.chunk.documentId)),
        ]);
        const currentOnes = candidates.filter(
          ({ stored }) => current.get(stored.chunk.documentId)?.writeId === stored.writeId,
        );
        // A record gone since the query ranked it was replaced or deleted meanwhile, as was a
        // document found only by chunks of another write.
        switched ||=
          part.some((match) => !records.has(match.id)) || switchedMeanwhile(candidates, currentOnes, current);
        kept.push(...currentOnes);
      }
      if (switches < switchRetries && switched) {
        switches += 1;
        continue;
      }
      if (kept.length >= limit || matches.length < topK || topK === mostQueryMatches) {
        return kept.slice(0, limit).map(({ stored, score }) => ({ key: keyOf(stored), score }));
      }
      topK = Math.min(mostQueryMatches, topK * 4);
    }
  }

  private async writeInOrder(
    documents: readonly DocumentToStore[],
    recordIds: ReadonlyMap<string, string>,
  ): Promise<void> {
    const previous = await this.documents(documents.map((document) => document.id));
    const changed = documents.filter(
      (document) => previous.get(document.id)?.revisionHash !== document.revisionHash,
    );
    if (changed.length === 0) return;
    const writeId = newWriteId();
    const corpus = await this.statistics.corpus();
    const turn = eventLoopTurns();
    const terms = new Map<string, IndexedTerms[]>();
    for (const document of changed) {
      const titleTerms = document.title ? analyzeTerms(document.title) : [];
      const chunkIndexedTerms: IndexedTerms[] = [];
      for (const chunk of document.chunks) {
        await turn();
        chunkIndexedTerms.push(indexedTerms(chunkTerms(titleTerms, chunk)));
      }
      terms.set(document.id, chunkIndexedTerms);
    }
    const averageLength = averageChunkLength(corpus, [...terms.values()].flat());
    const change = emptyChange();
    const chunkRecords: PineconeRecord[] = [];
    for (const document of changed) {
      const documentFields = filterFields(document);
      for (const [position, chunk] of document.chunks.entries()) {
        await turn();
        const { frequencies, length } = terms.get(document.id)?.[position] ?? emptyTerms();
        const sparse = chunkSparseVector(frequencies, length, averageLength);
        addToChange(change, sparse?.indices ?? [], length, 1);
        const { values, scale } = this.denseValues(chunk.embedding);
        const metadata = chunkMetadata({ document, documentFields, chunk, writeId, scale, sparse, length });
        checkMetadataSize(document.id, metadata);
        chunkRecords.push({
          id: chunkRecordId(document.id, writeId, chunk.index),
          values,
          ...(sparse ? { sparseValues: sparse } : {}),
          metadata,
        });
      }
    }
    const now = new Date();
    const documentRecords = changed.map((document): PineconeRecord => {
      const metadata = documentMetadata(
        document,
        writeId,
        document.createdAt ?? previous.get(document.id)?.createdAt ?? now,
        document.updatedAt ?? now,
      );
      checkMetadataSize(document.id, metadata);
      return {
        id: recordIds.get(document.id) ?? '',
        values: placeholderVector(this.context.dimensions),
        metadata,
      };
    });
    const replaced = changed.flatMap((document) => {
      const stored = previous.get(document.id);
      return stored ? [stored] : [];
    });
    const replacedChunkIds = replaced.flatMap(chunkRecordIds);
    const replacedChunks = await this.namespace.fetch(replacedChunkIds);
    let counted = false;
    try {
      await this.namespace.upsert(chunkRecords);
      // Counted before the switch, so that a search right after it knows the new revision's terms.
      await this.statistics.apply(change);
      counted = true;
      await this.namespace.upsert(documentRecords);
    } catch (error) {
      await this.rollBack(
        changed,
        recordIds,
        previous,
        chunkRecords.map((record) => record.id),
        counted ? change : null,
      );
      throw error;
    }
    await this.finish([...replacedChunks.values()], replacedChunkIds);
  }

  /** Step 3: the statistics lose the replaced chunks, and the replaced chunks go. */
  private async finish(replaced: readonly PineconeRecord[], replacedIds: readonly string[]) {
    const change = emptyChange();
    for (const record of replaced) {
      const stored = storedChunkOf(record.metadata);
      if (stored) addToChange(change, stored.termIds, stored.length, -1);
    }
    try {
      await this.statistics.apply(change);
      await this.namespace.delete(replacedIds);
    } catch (error) {
      this.context.logger?.warn(
        { err: error, tenant: this.namespace.name },
        'A Pinecone write stands, but its keyword statistics or the chunks it replaced were not updated',
      );
    }
  }

  private warnLeftovers(error: unknown): void {
    this.context.logger?.warn(
      { err: error, tenant: this.namespace.name },
      'A deleted document is gone, but chunks that writes cut short left of it remain in Pinecone',
    );
  }

  private async rollBack(
    changed: readonly DocumentToStore[],
    recordIds: ReadonlyMap<string, string>,
    previous: ReadonlyMap<string, StoredDocument>,
    writtenChunkIds: readonly string[],
    /** What the write added to the statistics, to take back; null if nothing. */
    counted: CorpusChange | null,
  ): Promise<void> {
    try {
      if (counted) await this.statistics.apply(negated(counted));
      const restored = changed.flatMap((document) => {
        const stored = previous.get(document.id);
        if (!stored) return [];
        return [
          {
            id: recordIds.get(document.id) ?? '',
            values: placeholderVector(this.context.dimensions),
            metadata: documentMetadata(
              { ...stored, chunks: [] },
              stored.writeId,
              stored.createdAt,
              stored.updatedAt,
            ),
          },
        ];
      });
      const added = changed.filter((document) => !previous.has(document.id));
      await this.namespace.upsert(restored);
      await this.namespace.delete([
        ...added.map((document) => recordIds.get(document.id) ?? ''),
        ...writtenChunkIds,
      ]);
    } catch (error) {
      this.context.logger?.warn(
        { err: error, tenant: this.namespace.name },
        'A failed Pinecone write could not be rolled back; readers still see whole documents',
      );
    }
  }

  private denseValues(embedding: Float32Array | undefined): { values: number[]; scale: number } {
    if (!this.context.space() || !embedding)
      return { values: placeholderVector(this.context.dimensions), scale: 1 };
    return unitVector(embedding);
  }

  private async documents(ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const recordIds = ids.flatMap((id) => {
      const recordId = orderedIdOrNull(id);
      return recordId ? [recordId] : [];
    });
    const found = new Map<string, StoredDocument>();
    for (const record of (await this.namespace.fetch(recordIds)).values()) {
      const stored = storedDocumentOf(record.metadata);
      if (stored) found.set(stored.id, stored);
    }
    return found;
  }

  /** Of these document record ids (in order), the documents the filter keeps. */
  private async matchingDocuments(
    recordIds: readonly string[],
    filter: PineconeFilter,
  ): Promise<StoredDocument[]> {
    if (recordIds.length === 0) return [];
    // Pinecone tells which ids its filter keeps, by ids only (a result may not pass 4 MB, and a
    // document record holds up to 40 KB); the records are then read as this process reads them,
    // so what it deleted meanwhile is gone.
    const matched =
      filter.clauses.length === 0
        ? new Set(recordIds)
        : new Set(
            (
              await this.namespace.query({
                vector: placeholderVector(this.context.dimensions),
                topK: recordIds.length,
                filter: allOf(
                  { kind: { $eq: recordKind.document } },
                  { doc: { $in: recordIds.map(documentIdOf) } },
                  ...filter.clauses,
                ),
              })
            ).map((match) => match.id),
          );
    const records = await this.namespace.fetch(recordIds.filter((id) => matched.has(id)));
    return recordIds.flatMap((id) => {
      const metadata = records.get(id)?.metadata;
      const stored = storedDocumentOf(metadata);
      if (!stored || (filter.residual && !filter.residual(metadata ?? {}))) return [];
      return [stored];
    });
  }

  /** The chunks the document's record names, in order, with their stored values. */
  private async currentChunks(documentId: string): Promise<{ stored: StoredChunk; values: number[] }[]> {
    const document = (await this.documents([documentId])).get(documentId);
    if (!document) return [];
    const records = await this.namespace.fetch(chunkRecordIds(document));
    return [...records.values()]
      .flatMap((record) => {
        const stored = storedChunkOf(record.metadata);
        return stored ? [{ stored, values: record.values ?? [] }] : [];
      })
      .sort((a, b) => a.stored.chunk.index - b.stored.chunk.index);
  }
}

function publicDocument({ writeId: _, ...document }: StoredDocument): DocumentRecord {
  return document;
}

/** The record id of a document that can be stored; null for an id too long to be. */
function orderedIdOrNull(documentId: string): string | null {
  try {
    return documentRecordId(documentId);
  } catch {
    return null;
  }
}

interface IndexedTerms {
  frequencies: Map<number, number>;
  length: number;
}

function emptyTerms(): IndexedTerms {
  return { frequencies: new Map(), length: 0 };
}

/** The tenant's average chunk length, counting the chunks about to be written. */
function averageChunkLength(
  corpus: { chunks: number; length: number },
  written: readonly IndexedTerms[],
): number {
  const chunks = corpus.chunks + written.length;
  const length = corpus.length + written.reduce((sum, terms) => sum + terms.length, 0);
  return chunks === 0 || length === 0 ? 1 : length / chunks;
}

function emptyChange(): CorpusChange {
  return { chunks: 0, length: 0, frequencies: new Map() };
}

function negated(change: CorpusChange): CorpusChange {
  return {
    chunks: -change.chunks,
    length: -change.length,
    frequencies: new Map([...change.frequencies].map(([index, count]) => [index, -count])),
  };
}

/** Counts a chunk in (`sign` 1) or out (-1) of the change. */
function addToChange(change: CorpusChange, termIds: readonly number[], length: number, sign: 1 | -1): void {
  change.chunks += sign;
  change.length += sign * length;
  for (const index of termIds) change.frequencies.set(index, (change.frequencies.get(index) ?? 0) + sign);
}

function checkMetadataSize(documentId: string, metadata: RecordMetadata): void {
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > mostMetadataBytes) {
    throw badInput(
      `Document "${documentId.slice(0, 80)}" is too large for the Pinecone store: a record of it holds ${bytes} bytes of metadata (its text, title, source, metadata and section headings), and Pinecone holds ${mostMetadataBytes}. Make its metadata smaller, or its chunks (RAGQL_CHUNK_SIZE).`,
    );
  }
}

/** The vector as Pinecone stores it: a unit vector, so that its dot product ranks by cosine. */
function unitVector(vector: Float32Array): { values: number[]; scale: number } {
  const norm = Math.hypot(...vector);
  if (Math.abs(norm - 1) < unitTolerance || norm === 0) return { values: [...vector], scale: 1 };
  return { values: Array.from(vector, (value) => value / norm), scale: norm };
}

/**
 * Whether a document with candidates but none of them current was switched lately, so that the
 * query may have run before its new chunks were there. Leftovers of a write cut short belong to
 * documents switched long ago, and do not make searches run again.
 */
function switchedMeanwhile(
  candidates: readonly { stored: StoredChunk }[],
  kept: readonly { stored: StoredChunk }[],
  current: ReadonlyMap<string, StoredDocument>,
): boolean {
  const found = new Set(kept.map(({ stored }) => stored.chunk.documentId));
  return candidates.some(({ stored }) => {
    const document = current.get(stored.chunk.documentId);
    return (
      document !== undefined &&
      !found.has(document.id) &&
      Date.now() - document.updatedAt.getTime() < recentSwitchMs
    );
  });
}

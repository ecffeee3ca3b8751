import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import {
  type ChunkRecord,
  type DocumentPageRequest,
  type DocumentRecord,
  type DocumentToStore,
  type EmbeddingSpace,
  type Filter,
  type SearchHit,
  type SearchRequest,
  sameSpace,
  type TenantStore,
} from '../../ports.ts';
import { fromFloat32Bytes } from '../../ranking/vector-math.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { spaceMismatch } from '../embedding-space-guard.ts';
import { defaultHybridCandidates, keyedSearch, type ScoredKey } from '../keyed-search.ts';
import { type ChunkRow, chunkOfRow, type DocumentRow, documentOfRow, type RowValues } from '../sql-rows.ts';
import { filterToSql } from './filter-sql.ts';
import { createVectorTable, migrate } from './sql-schema.ts';
import { openTenantConnection } from './tenant-connection.ts';
import { VectorIndex } from './vector-index.ts';
import { readGeneration } from './write-generation.ts';
import { type FileWrite, type PreparedWrite, WriteThread } from './write-thread.ts';

export interface EmbeddedTenantStoreOptions {
  /** The SQLite file; its folder is created when missing. */
  path: string;
  /**
   * Candidates each retriever contributes to a hybrid fusion, when the limit is smaller.
   * @default `defaultHybridCandidates`
   */
  hybridCandidates?: number;
  /**
   * The thread that writes the file; a store passes the one all its files share.
   * @default a thread of the partition's own, ended when it closes
   */
  writeThread?: WriteThread;
}

/** SQLite returns metadata as JSON text and times as epoch milliseconds. */
type SqliteDocumentRow = DocumentRow<string, number>;

interface SqliteChunkRow extends ChunkRow {
  rowid: number;
}

const rowValues: RowValues<string, number> = {
  metadata: (stored) => JSON.parse(stored),
  time: (stored) => new Date(stored),
};

/** The in-memory vectors, and the write generation of the file they reflect. */
interface LoadedIndex {
  index: VectorIndex;
  generation: number;
}

const chunkColumns =
  'rowid, id, document_id, chunk_index, content, start_offset, end_offset, content_hash, location';

/**
 * One tenant's documents in the embedded store: one SQLite file holding documents, chunks, an FTS5
 * index ranked with bm25() and a sqlite-vec table of embeddings. Reads run on the event loop's
 * connection; every write is one transaction on the write thread's (write-thread.ts), one at a
 * time. Vector search runs over an in-memory VectorIndex, loaded from the file on first use, kept
 * current with this partition's writes, and reloaded when another process has written to the file.
 */
export class EmbeddedTenantStore implements TenantStore {
  private readonly path: string;
  private readonly database: Database.Database;
  private readonly hybridCandidates: number;
  private readonly writeThread: WriteThread;
  private readonly ownsWriteThread: boolean;
  private space: EmbeddingSpace | null = null;
  private loadedIndex: LoadedIndex | undefined;
  /** The connection's data_version when the index was last found current: unchanged, nobody wrote. */
  private checkedDataVersion: number | undefined;
  /** The writes in order: each starts when the one before it has settled. */
  private writes: Promise<unknown> = Promise.resolve();
  /**
   * Set while a write commits. A search waits until the index has taken the write's vectors:
   * finding the file ahead of the index, it would load every vector again.
   */
  private committing: Promise<unknown> | undefined;
  /**
   * The search path's statements, by SQL (one per filter shape): compiling an FTS5 query took a
   * fifth of a keyword search's time on a small store. SQLite recompiles a statement by itself
   * when the schema changes under it.
   */
  private readonly searchStatements = new LRUCache<string, Database.Statement>({ max: 64 });

  constructor(options: EmbeddedTenantStoreOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.path = options.path;
    this.database = openTenantConnection(options.path);
    // The schema is this connection's to set up, before the write thread ever opens the file.
    migrate(this.database);
    this.hybridCandidates = options.hybridCandidates ?? defaultHybridCandidates;
    this.writeThread = options.writeThread ?? new WriteThread();
    this.ownsWriteThread = options.writeThread === undefined;
    // Until bindEmbeddingSpace says otherwise, the file's own record decides whether vectors exist.
    this.space = this.storedSpace() ?? null;
  }

  bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    // In turn with the writes, so that none is under way while the vector table changes.
    return this.inTurn(async () => {
      const storedSpace = this.storedSpace() ?? null;
      const chunkCount = this.database.prepare('SELECT count(*) FROM chunks').pluck().get() as number;
      if (chunkCount > 0 && !sameSpace(storedSpace, space)) {
        throw spaceMismatch({
          holder: 'This store',
          stored: storedSpace,
          configured: space,
          chunkCount,
          freshStart: 'point RAGQL_DATA_DIR at a new folder',
        });
      }
      this.database.transaction(() => {
        if (!sameSpace(storedSpace, space)) {
          this.database.exec('DROP TABLE IF EXISTS chunk_vectors');
          this.loadedIndex = undefined;
        }
        if (space) createVectorTable(this.database, space.dimensions);
        this.writeMeta('embedding_space', JSON.stringify(space));
      })();
      this.space = space;
    });
  }

  async getDocuments(ids: readonly string[]): Promise<(DocumentRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.database
      .prepare('SELECT * FROM documents WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as SqliteDocumentRow[];
    const byId = new Map(rows.map((row) => [row.id, documentOfRow(row, rowValues)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async listDocuments(request: DocumentPageRequest): Promise<DocumentRecord[]> {
    const condition = filterToSql(request.filter);
    const bounds = [
      ...(request.after === undefined ? [] : ['d.id > @after']),
      ...(request.before === undefined ? [] : ['d.id < @before']),
    ];
    const where = [...bounds, `(${condition.sql})`].join(' AND ');
    const order = request.descending ? 'DESC' : 'ASC';
    const rows = this.database
      .prepare(`SELECT * FROM documents d WHERE ${where} ORDER BY d.id ${order} LIMIT @limit`)
      .all(...condition.params, {
        after: request.after,
        before: request.before,
        limit: request.limit,
      }) as SqliteDocumentRow[];
    return rows.map((row) => documentOfRow(row, rowValues));
  }

  async getChunks(documentId: string): Promise<ChunkRecord[]> {
    const rows = this.database
      .prepare(`SELECT ${chunkColumns} FROM chunks WHERE document_id = ? ORDER BY chunk_index`)
      .all(documentId) as SqliteChunkRow[];
    return rows.map(chunkOfRow);
  }

  async getChunkEmbeddings(documentId: string): Promise<Map<string, Float32Array>> {
    if (!this.space) return new Map();
    const rows = this.database
      .prepare(
        `SELECT c.content_hash AS hash, v.embedding AS embedding
         FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid WHERE c.document_id = ?`,
      )
      .all(documentId) as { hash: string; embedding: Buffer }[];
    return new Map(rows.map((row) => [row.hash, fromFloat32Bytes(row.embedding)]));
  }

  async upsertDocuments(documents: readonly DocumentToStore[]): Promise<void> {
    const dimensions = this.space?.dimensions ?? null;
    const vectors =
      dimensions === null
        ? []
        : documents.flatMap((document) => document.chunks.map((chunk) => chunk.embedding));
    await this.write({ kind: 'upsert', documents, dimensions }, vectors);
  }

  async deleteDocument(id: string): Promise<boolean> {
    return (await this.write({ kind: 'delete', id, dimensions: this.space?.dimensions ?? null }, [])).deleted;
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    while (this.committing) await this.committing;
    return keyedSearch(request, this.space !== null, this.hybridCandidates, {
      keyword: (limit) => this.keywordSearch(request.text, limit, request.filter),
      vector: (vector, limit) => this.vectorSearch(vector, limit, request.filter),
      chunks: (keys) => this.chunksOf(keys),
    });
  }

  /** Why the file cannot serve now, or null when it can. */
  unreadyReason(): string | null {
    try {
      this.database.prepare('SELECT 1').get();
      return null;
    } catch (error) {
      return `the SQLite file cannot be read: ${(error as Error).message}`;
    }
  }

  async close(): Promise<void> {
    await this.writes;
    await this.writeThread.closeFile(this.path);
    if (this.ownsWriteThread) await this.writeThread.close();
    if (this.database.open) this.database.close();
  }

  /** Runs `work` after every write queued before it has settled. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work);
    this.writes = result.catch(() => undefined);
    return result;
  }

  /**
   * One write, in turn: prepared on the write thread while searches go on reading the last
   * commit, then committed while they wait, and applied to the vector index before they resume.
   * `vectors`: the written chunks' vectors, in the order the write adds their keys.
   */
  private write(write: FileWrite, vectors: readonly (Float32Array | undefined)[]): Promise<PreparedWrite> {
    return this.inTurn(async () => {
      const prepared = await this.writeThread.prepare(this.path, write);
      const committed = this.writeThread.commit(this.path).then(() => this.applyToIndex(prepared, vectors));
      this.committing = committed.catch(() => undefined);
      try {
        await committed;
      } finally {
        this.committing = undefined;
      }
      return prepared;
    });
  }

  private keywordSearch(text: string, limit: number, filter: Filter): ScoredKey[] {
    const terms = [...new Set(analyzeTerms(text))];
    if (terms.length === 0) return [];
    // Terms are runs of letters and digits, so quoting each makes a safe FTS5 query.
    const match = terms.map((term) => `"${term}"`).join(' OR ');
    const condition = filterToSql(filter);
    const joins =
      filter.length === 0
        ? ''
        : 'JOIN chunks c ON c.rowid = f.rowid JOIN documents d ON d.id = c.document_id';
    return this.searchStatement(
      `SELECT f.rowid AS key, -bm25(chunks_fts) AS score FROM chunks_fts f ${joins}
       WHERE chunks_fts MATCH ? AND (${condition.sql}) ORDER BY bm25(chunks_fts) LIMIT ?`,
    ).all(match, ...condition.params, limit) as ScoredKey[];
  }

  private searchStatement(sql: string): Database.Statement {
    let statement = this.searchStatements.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql);
      this.searchStatements.set(sql, statement);
    }
    return statement;
  }

  private vectorSearch(vector: Float32Array, limit: number, filter: Filter): ScoredKey[] {
    const allowed = filter.length === 0 ? undefined : this.chunkKeysMatching(filter);
    return this.currentVectorIndex().search(vector, limit, allowed);
  }

  /**
   * The chunks of the documents the filter admits. The filter is a condition on documents, so it is
   * evaluated once per document in a subquery, not once per chunk of a join: at 100,000 chunks
   * in 20,000 documents that is 9 ms against 42 ms.
   */
  private chunkKeysMatching(filter: Filter): number[] {
    const condition = filterToSql(filter);
    return this.searchStatement(
      `SELECT rowid FROM chunks WHERE document_id IN (SELECT d.id FROM documents d WHERE ${condition.sql})`,
    )
      .pluck()
      .all(...condition.params) as number[];
  }

  /**
   * The index of the file's vectors. SQLite's data_version changes with every commit of another
   * connection, this partition's write thread included; the file's write generation then tells
   * whether the index has seen it (its own writes are applied as they commit) or another process
   * (a `ragql ingest` beside the server) wrote, when the index is loaded again.
   */
  private currentVectorIndex(): VectorIndex {
    const dataVersion = this.database.pragma('data_version', { simple: true }) as number;
    if (!this.loadedIndex || this.checkedDataVersion !== dataVersion) {
      if (this.loadedIndex?.generation !== readGeneration(this.database)) this.loadedIndex = this.loadIndex();
      this.checkedDataVersion = dataVersion;
    }
    return this.loadedIndex.index;
  }

  /** The vectors and the generation they belong to, read from one snapshot of the file. */
  private loadIndex(): LoadedIndex {
    return this.database.transaction(() => {
      const index = new VectorIndex(this.space?.dimensions ?? 0);
      for (const row of this.database.prepare('SELECT rowid, embedding FROM chunk_vectors').iterate()) {
        const { rowid, embedding } = row as { rowid: number; embedding: Buffer };
        index.add(rowid, fromFloat32Bytes(embedding));
      }
      return { index, generation: readGeneration(this.database) };
    })();
  }

  /**
   * Brings the index to the generation the write committed: by its own changes when the index was
   * one generation behind, else (another process wrote in between) by loading it again when next used.
   */
  private applyToIndex(write: PreparedWrite, vectors: readonly (Float32Array | undefined)[]): void {
    const loaded = this.loadedIndex;
    if (!loaded) return;
    if (loaded.generation !== write.generation - 1) {
      this.loadedIndex = undefined;
      return;
    }
    for (const key of write.removed) loaded.index.remove(key);
    for (const [position, key] of write.added.entries()) {
      loaded.index.add(key, vectors[position] as Float32Array);
    }
    loaded.generation = write.generation;
  }

  private chunksOf(keys: readonly number[]): Map<number, ChunkRecord> {
    const rows = this.searchStatement(
      `SELECT ${chunkColumns} FROM chunks WHERE rowid IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(keys)) as SqliteChunkRow[];
    return new Map(rows.map((row) => [row.rowid, chunkOfRow(row)]));
  }

  /** The space the file's vectors were made in: null for keyword-only, undefined if never bound. */
  private storedSpace(): EmbeddingSpace | null | undefined {
    const stored = this.readMeta('embedding_space');
    return stored === undefined ? undefined : (JSON.parse(stored) as EmbeddingSpace | null);
  }

  private readMeta(key: string): string | undefined {
    return this.database.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as
      | string
      | undefined;
  }

  private writeMeta(key: string, value: string): void {
    this.database
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }
}

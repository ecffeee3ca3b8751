import pgvector from 'pgvector';
import type {
  ChunkRecord,
  ChunkToStore,
  DocumentPageRequest,
  DocumentRecord,
  DocumentToStore,
  EmbeddingSpace,
  Filter,
  Metadata,
  SearchHit,
  SearchRequest,
  TenantStore,
} from '../../ports.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import type { ChunkTerms } from '../bm25-terms.ts';
import { encodeChunkLocation } from '../chunk-location.ts';
import { keyedSearch, type ScoredKey } from '../keyed-search.ts';
import { type ChunkRow, chunkOfRow, type DocumentRow, documentOfRow, type RowValues } from '../sql-rows.ts';
import { storedVector } from '../stored-vector.ts';
import { chunkPostings, keywordQuery } from './bm25.ts';
import { filterToSql } from './filter-sql.ts';
import { type PostgresConnection, type Queryable, SqlParameters } from './postgres-connection.ts';
import type { PostgresTables } from './tables.ts';

/** What a tenant store needs of its engine: the connection, and the space once it is bound. */
export interface PostgresTenantContext {
  connection: PostgresConnection;
  /** The tables of the store's generation. */
  tables: PostgresTables;
  /** Resolves when the schema is in place and the embedding space bound (null: keyword-only). */
  ready(): Promise<EmbeddingSpace | null>;
  /** Candidates each retriever contributes to a hybrid fusion, when the limit is smaller. */
  hybridCandidates: number;
}

/** PostgreSQL returns jsonb parsed and timestamptz as Dates. */
type PostgresDocumentRow = DocumentRow<Metadata, Date>;

interface PostgresChunkRow extends ChunkRow {
  /** bigint, which pg returns as a string. */
  key: string;
}

const rowValues: RowValues<Metadata, Date> = { metadata: (stored) => stored, time: (stored) => stored };

const documentColumns =
  'd.id, d.title, d.source, d.metadata, d.content_hash, d.revision_hash, d.chunk_count, d.created_at, d.updated_at';
const chunkColumns =
  'c.key, c.id, c.document_id, c.chunk_index, c.content, c.start_offset, c.end_offset, c.content_hash, c.location';

/** pgvector's own ef_search, kept when the limit is below it. */
const defaultEfSearch = 40;
/** The largest ef_search pgvector accepts. */
const maxEfSearch = 1000;

/** Chunks per INSERT: small enough that serialising a statement's values stays brief. */
const chunksPerInsert = 250;

/** Rows per INSERT of postings, for the same reason. */
const postingsPerInsert = 20_000;

/**
 * One tenant's documents in PostgreSQL. Every statement names the tenant (`tenant = $n`), in every
 * table it touches: the tables hold all tenants, and nothing else keeps them apart.
 */
export class PostgresTenantStore implements TenantStore {
  private readonly tenant: string;
  private readonly context: PostgresTenantContext;

  constructor(tenant: string, context: PostgresTenantContext) {
    this.tenant = tenant;
    this.context = context;
  }

  async getDocuments(ids: readonly string[]): Promise<(DocumentRecord | null)[]> {
    if (ids.length === 0) return [];
    await this.context.ready();
    const rows = await this.context.connection.query<PostgresDocumentRow>(
      'read documents',
      `SELECT ${documentColumns} FROM ${this.context.tables.documents} d WHERE d.tenant = $1 AND d.id = ANY($2::text[])`,
      [this.tenant, ids],
    );
    const byId = new Map(rows.map((row) => [row.id, documentOfRow(row, rowValues)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async listDocuments(request: DocumentPageRequest): Promise<DocumentRecord[]> {
    await this.context.ready();
    const parameters = new SqlParameters();
    const conditions = [`d.tenant = ${parameters.add(this.tenant)}`];
    if (request.after !== undefined) conditions.push(`d.id > ${parameters.add(request.after)}::text`);
    if (request.before !== undefined) conditions.push(`d.id < ${parameters.add(request.before)}::text`);
    conditions.push(`(${filterToSql(request.filter, parameters)})`);
    const order = request.descending ? 'DESC' : 'ASC';
    const rows = await this.context.connection.query<PostgresDocumentRow>(
      'list documents',
      `SELECT ${documentColumns} FROM ${this.context.tables.documents} d WHERE ${conditions.join(' AND ')}
       ORDER BY d.id ${order} LIMIT ${parameters.add(request.limit)}`,
      parameters.values,
    );
    return rows.map((row) => documentOfRow(row, rowValues));
  }

  async getChunks(documentId: string): Promise<ChunkRecord[]> {
    await this.context.ready();
    const rows = await this.context.connection.query<PostgresChunkRow>(
      'read chunks',
      `SELECT ${chunkColumns} FROM ${this.context.tables.chunks} c WHERE c.tenant = $1 AND c.document_id = $2 ORDER BY c.chunk_index`,
      [this.tenant, documentId],
    );
    return rows.map(chunkOfRow);
  }

  async getChunkEmbeddings(documentId: string): Promise<Map<string, Float32Array>> {
    if ((await this.context.ready()) === null) return new Map();
    const rows = await this.context.connection.query<{ content_hash: string; embedding: string }>(
      'read chunk embeddings',
      `SELECT c.content_hash, c.embedding::text AS embedding FROM ${this.context.tables.chunks} c
       WHERE c.tenant = $1 AND c.document_id = $2 AND c.embedding IS NOT NULL`,
      [this.tenant, documentId],
    );
    return new Map(
      rows.map((row) => [row.content_hash, Float32Array.from(pgvector.fromSql(row.embedding) as number[])]),
    );
  }

  /** One transaction for the whole call: every document is stored, or none is. */
  async upsertDocuments(documents: readonly DocumentToStore[]): Promise<void> {
    if (documents.length === 0) return;
    const space = await this.context.ready();
    const dimensions = space?.dimensions ?? null;
    // Checked before the transaction: a bad vector fails the call without a round trip.
    if (dimensions !== null) {
      for (const chunk of documents.flatMap((document) => document.chunks)) storedVector(chunk, dimensions);
    }
    await this.context.connection.transaction('store documents', async (client) => {
      let chunkChange = 0;
      let termChange = 0;
      // In id order, so that two replicas writing overlapping batches lock rows in one order and
      // cannot deadlock each other.
      for (const document of [...documents].sort((a, b) => compareIds(a.id, b.id))) {
        // The document's row first: it locks the document, so that a write of it under way in
        // another transaction has committed before its chunks are read for deletion (which would
        // otherwise miss the chunks that write inserts, and collide with them).
        await this.upsertDocumentRecord(client, document);
        const removed = await this.deleteChunksOf(client, document.id);
        chunkChange -= removed.chunks;
        termChange -= removed.terms;
        const written = await this.insertChunks(client, document, dimensions);
        chunkChange += written.chunks;
        termChange += written.terms;
      }
      await this.changeStats(client, chunkChange, termChange);
    });
  }

  async deleteDocument(id: string): Promise<boolean> {
    await this.context.ready();
    return this.context.connection.transaction('delete a document', async (client) => {
      // Locked before its chunks are counted, as upsertDocuments locks it: a write of the document
      // under way commits first, and the chunks it inserted are counted out with the rest rather
      // than removed by the cascade behind the statistics' back.
      await client.query(
        `SELECT 1 FROM ${this.context.tables.documents} WHERE tenant = $1 AND id = $2 FOR UPDATE`,
        [this.tenant, id],
      );
      const removed = await this.deleteChunksOf(client, id);
      const deleted = await client.query(
        `DELETE FROM ${this.context.tables.documents} WHERE tenant = $1 AND id = $2`,
        [this.tenant, id],
      );
      await this.changeStats(client, -removed.chunks, -removed.terms);
      return (deleted.rowCount ?? 0) > 0;
    });
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    const space = await this.context.ready();
    // Keyword, vector and chunk reads in one snapshot: a replacement committed between them would
    // otherwise fuse the old revision's hits with the new one's, or find chunks already deleted.
    return this.context.connection.transaction(
      'search',
      (client) =>
        keyedSearch(request, space !== null, this.context.hybridCandidates, {
          keyword: (limit) => this.keywordSearch(client, request.text, limit, request.filter),
          vector: (vector, limit) => this.vectorSearch(client, vector, limit, request.filter),
          chunks: (keys) => this.chunksOf(client, keys),
        }),
      { snapshot: true },
    );
  }

  private async keywordSearch(
    client: Queryable,
    text: string,
    limit: number,
    filter: Filter,
  ): Promise<ScoredKey[]> {
    const parameters = new SqlParameters();
    const sql = keywordQuery(this.context.tables, this.tenant, text, filter, limit, parameters);
    if (sql === null) return [];
    const { rows } = await client.query<{ key: string; score: number }>(sql, parameters.values);
    return rows.map((row) => ({ key: Number(row.key), score: row.score }));
  }

  /**
   * Cosine similarity through the HNSW index; the filter runs on the documents of its candidates.
   * Exact when the index's scan ends short of the limit.
   */
  private async vectorSearch(
    client: Queryable,
    vector: Float32Array,
    limit: number,
    filter: Filter,
  ): Promise<ScoredKey[]> {
    const parameters = new SqlParameters();
    const tenant = parameters.add(this.tenant);
    const query = parameters.add(toSqlVector(vector));
    const filtered =
      filter.length === 0
        ? ''
        : `AND EXISTS (SELECT 1 FROM ${this.context.tables.documents} d WHERE d.tenant = ${tenant} AND d.id = c.document_id AND (${filterToSql(filter, parameters)}))`;
    const distance = `c.embedding <=> ${query}::vector`;
    const limitParameter = parameters.add(limit);
    const ranked = (
      order: string,
    ) => `SELECT c.key, 1 - (${distance}) AS score FROM ${this.context.tables.chunks} c
       WHERE c.tenant = ${tenant} AND c.embedding IS NOT NULL ${filtered}
       ORDER BY ${order} LIMIT ${limitParameter}`;
    // The index finds candidates before the tenant and the filter are applied, so its scan must
    // go on until `limit` of them pass (pgvector 0.8's iterative scan) rather than stop at
    // ef_search, which must itself cover the limit. For this transaction only.
    await client.query(
      "SELECT set_config('hnsw.iterative_scan', 'strict_order', true), set_config('hnsw.ef_search', $1, true)",
      [String(Math.min(Math.max(limit, defaultEfSearch), maxEfSearch))],
    );
    const found = (await client.query<{ key: string; score: number }>(ranked(distance), parameters.values))
      .rows;
    // The iterative scan gives up after hnsw.max_scan_tuples (20,000) index tuples, so fewer hits
    // may mean only that the tenant's or the filter's chunks lie beyond those. An order the index
    // does not match (`+ 0`) makes PostgreSQL rank the tenant's rows themselves.
    const rows =
      found.length >= limit
        ? found
        : (await client.query<{ key: string; score: number }>(ranked(`(${distance}) + 0`), parameters.values))
            .rows;
    return rows.map((row) => ({ key: Number(row.key), score: row.score }));
  }

  private async chunksOf(client: Queryable, keys: readonly number[]): Promise<Map<number, ChunkRecord>> {
    const { rows } = await client.query<PostgresChunkRow>(
      `SELECT ${chunkColumns} FROM ${this.context.tables.chunks} c WHERE c.tenant = $1 AND c.key = ANY($2::bigint[])`,
      [this.tenant, keys],
    );
    return new Map(rows.map((row) => [Number(row.key), chunkOfRow(row)]));
  }

  /** Deletes a document's chunks (their postings go with them); says what the statistics lose. */
  private async deleteChunksOf(
    client: Queryable,
    documentId: string,
  ): Promise<{ chunks: number; terms: number }> {
    const removed = await client.query<{ chunks: string; terms: string | null }>(
      `WITH removed AS (
         DELETE FROM ${this.context.tables.chunks} WHERE tenant = $1 AND document_id = $2 RETURNING term_count
       ) SELECT count(*) AS chunks, sum(term_count) AS terms FROM removed`,
      [this.tenant, documentId],
    );
    const row = removed.rows[0];
    return { chunks: Number(row?.chunks ?? 0), terms: Number(row?.terms ?? 0) };
  }

  private async upsertDocumentRecord(client: Queryable, document: DocumentToStore): Promise<void> {
    await client.query(
      `INSERT INTO ${this.context.tables.documents} AS d (tenant, id, title, source, metadata, content_hash, revision_hash, chunk_count, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, now()), coalesce($10::timestamptz, now()))
       ON CONFLICT (tenant, id) DO UPDATE SET title = excluded.title, source = excluded.source,
         metadata = excluded.metadata, content_hash = excluded.content_hash,
         revision_hash = excluded.revision_hash, chunk_count = excluded.chunk_count, updated_at = excluded.updated_at,
         created_at = CASE WHEN $9::timestamptz IS NULL THEN d.created_at ELSE excluded.created_at END`,
      [
        this.tenant,
        document.id,
        document.title,
        document.source,
        JSON.stringify(document.metadata),
        document.contentHash,
        document.revisionHash,
        document.chunks.length,
        document.createdAt ?? null,
        document.updatedAt ?? null,
      ],
    );
  }

  /** Inserts a document's chunks and their postings; says what the statistics gain. */
  /**
   * Inserts a document's chunks and their postings, `chunksPerInsert` at a time; says what the
   * statistics gain. A statement's values are serialised on the event loop: a 5 MB document's
   * 7,000 chunks and their postings in one statement held it for over a second.
   */
  private async insertChunks(
    client: Queryable,
    document: DocumentToStore,
    dimensions: number | null,
  ): Promise<{ chunks: number; terms: number }> {
    const titleTerms = analyzeTerms(document.title ?? '');
    let termTotal = 0;
    for (let start = 0; start < document.chunks.length; start += chunksPerInsert) {
      const chunks = document.chunks.slice(start, start + chunksPerInsert);
      const terms = chunks.map((chunk) => chunkPostings(titleTerms, chunk));
      const keys = await this.insertChunkRows(client, document.id, chunks, terms, dimensions);
      await this.insertPostings(client, document.id, chunks, terms, keys);
      termTotal += terms.reduce((total, chunk) => total + chunk.length, 0);
    }
    return { chunks: document.chunks.length, terms: termTotal };
  }

  /** The chunks' rows; gives each chunk id's key. */
  private async insertChunkRows(
    client: Queryable,
    documentId: string,
    chunks: readonly ChunkToStore[],
    terms: readonly ChunkTerms[],
    dimensions: number | null,
  ): Promise<Map<string, string>> {
    const withVectors = dimensions !== null;
    const inserted = await client.query<{ key: string; id: string }>(
      `INSERT INTO ${this.context.tables.chunks} (tenant, id, document_id, chunk_index, content, start_offset, end_offset, content_hash, term_count, location${withVectors ? ', embedding' : ''})
       SELECT $1, chunk.* FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::int[], $8::text[], $9::int[], $10::text[]${withVectors ? ', $11::vector[]' : ''})
         AS chunk(id, document_id, chunk_index, content, start_offset, end_offset, content_hash, term_count, location${withVectors ? ', embedding' : ''})
       RETURNING key, id`,
      [
        this.tenant,
        chunks.map((chunk) => chunk.id),
        chunks.map(() => documentId),
        chunks.map((chunk) => chunk.index),
        chunks.map((chunk) => chunk.content),
        chunks.map((chunk) => chunk.startOffset),
        chunks.map((chunk) => chunk.endOffset),
        chunks.map((chunk) => chunk.contentHash),
        terms.map((chunk) => chunk.length),
        chunks.map((chunk) => encodeChunkLocation(chunk)),
        ...(withVectors ? [chunks.map((chunk) => toSqlVector(storedVector(chunk, dimensions)))] : []),
      ],
    );
    return new Map(inserted.rows.map((row) => [row.id, row.key]));
  }

  private async insertPostings(
    client: Queryable,
    documentId: string,
    chunks: readonly ChunkToStore[],
    terms: readonly ChunkTerms[],
    keys: ReadonlyMap<string, string>,
  ): Promise<void> {
    const postings = {
      terms: [] as string[],
      keys: [] as string[],
      frequencies: [] as number[],
      lengths: [] as number[],
    };
    for (const [position, chunk] of chunks.entries()) {
      const key = keys.get(chunk.id) as string;
      const chunkTerms = terms[position];
      for (const [term, frequency] of chunkTerms?.frequencies ?? []) {
        postings.terms.push(term);
        postings.keys.push(key);
        postings.frequencies.push(frequency);
        postings.lengths.push(chunkTerms?.length ?? 0);
      }
    }
    for (let start = 0; start < postings.terms.length; start += postingsPerInsert) {
      const end = start + postingsPerInsert;
      await client.query(
        `INSERT INTO ${this.context.tables.chunkTerms} (tenant, document_id, term, chunk_key, frequency, chunk_length)
         SELECT $1, $2, posting.* FROM unnest($3::text[], $4::bigint[], $5::int[], $6::int[])
           AS posting(term, chunk_key, frequency, chunk_length)`,
        [
          this.tenant,
          documentId,
          postings.terms.slice(start, end),
          postings.keys.slice(start, end),
          postings.frequencies.slice(start, end),
          postings.lengths.slice(start, end),
        ],
      );
    }
  }

  private async changeStats(client: Queryable, chunks: number, terms: number): Promise<void> {
    if (chunks === 0 && terms === 0) return;
    await client.query(
      `INSERT INTO ${this.context.tables.tenantStats} AS stats (tenant, chunk_count, term_count) VALUES ($1, $2, $3)
       ON CONFLICT (tenant) DO UPDATE SET chunk_count = stats.chunk_count + excluded.chunk_count,
         term_count = stats.term_count + excluded.term_count`,
      [this.tenant, chunks, terms],
    );
  }
}

/** One total order of ids (by UTF-16 code units) that every replica applies alike. */
function compareIds(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** pgvector's text form of a vector. Float32 values print exactly, so vectors round-trip unchanged. */
function toSqlVector(vector: Float32Array): string {
  return pgvector.toSql(Array.from(vector)) as string;
}

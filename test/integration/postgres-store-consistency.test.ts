/**
 * What the PostgreSQL store keeps true under failure, overlap and size: BM25's statistics
 * (ragql_tenant_stats) always equal what the tenant's rows say, a batch that fails half-way
 * stores nothing, and documents and batches far past PostgreSQL's 65,535 parameters are stored.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentToStore, SearchRequest } from '../../src/ports.ts';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { usePostgres } from '../support/postgres.ts';

const space = { provider: 'test', modelId: 'axes', dimensions: 3 };

function documentOf(id: string, chunks: string[], title: string | null = `About ${id}`): DocumentToStore {
  return {
    id,
    title,
    source: null,
    metadata: {},
    contentHash: `content-${id}-${chunks.length}`,
    revisionHash: `revision-${id}-${chunks.length}`,
    chunkCount: chunks.length,
    chunks: chunks.map((content, index) => ({
      id: `${id}#${index}`,
      documentId: id,
      index,
      content,
      startOffset: 0,
      endOffset: content.length,
      contentHash: `chunk-${id}-${index}`,
      pages: null,
      sectionPath: [],
      embedding: Float32Array.of(1, index + 1, 0),
    })),
  };
}

const keywordSearch = (text: string, limit = 10): SearchRequest => ({
  text,
  alpha: 0,
  fusion: 'relativeScore',
  limit,
  filter: [],
});

describe('the PostgreSQL store under failure, overlap and size', () => {
  const postgres = usePostgres();
  let store: PostgresStore;
  let sql: pg.Client;

  beforeAll(async () => {
    store = new PostgresStore({ connectionString: postgres.url });
    await store.bindEmbeddingSpace(space);
    sql = new pg.Client({ connectionString: postgres.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await store?.close();
  });

  /** The statistics as kept, and as the rows say they should be. */
  async function statistics(tenant: string) {
    const kept = await sql.query(
      'SELECT chunk_count::int AS chunks, term_count::int AS terms FROM ragql_tenant_stats WHERE tenant = $1',
      [tenant],
    );
    const counted = await sql.query(
      'SELECT count(*)::int AS chunks, coalesce(sum(term_count), 0)::int AS terms FROM ragql_chunks WHERE tenant = $1',
      [tenant],
    );
    const postings = await sql.query(
      'SELECT coalesce(sum(frequency), 0)::int AS terms FROM ragql_chunk_terms WHERE tenant = $1',
      [tenant],
    );
    return {
      kept: kept.rows[0] ?? { chunks: 0, terms: 0 },
      counted: counted.rows[0],
      postings: postings.rows[0]?.terms,
    };
  }

  async function expectStatisticsTrue(tenant: string) {
    const { kept, counted, postings } = await statistics(tenant);
    expect(kept).toEqual(counted);
    expect(postings).toBe(counted?.terms);
  }

  it('keeps the statistics equal to the rows through re-upserts, deletes, failed batches and overlapping writes', async () => {
    const tenant = store.forTenant('stats');
    await tenant.upsertDocuments([
      documentOf('a', ['tides rise and fall', 'the moon pulls']),
      documentOf('b', ['ocean currents'], null),
      documentOf('empty', []),
    ]);
    await expectStatisticsTrue('stats');
    await tenant.upsertDocuments([documentOf('a', ['only one chunk now'])]);
    await expectStatisticsTrue('stats');
    expect(await tenant.deleteDocument('b')).toBe(true);
    expect(await tenant.deleteDocument('b')).toBe(false);
    await expectStatisticsTrue('stats');

    // A bad vector in the second document: nothing of the first is stored either.
    const badVector = documentOf('d', ['bad vector']);
    (badVector.chunks[0] as { embedding?: Float32Array }).embedding = Float32Array.of(1, 2);
    await expect(tenant.upsertDocuments([documentOf('c', ['would be new']), badVector])).rejects.toThrow();
    // The server refusing the second document's chunk half-way through the transaction.
    const refused = documentOf('e', ['refused']);
    (refused.chunks[0] as { embedding?: Float32Array }).embedding = Float32Array.of(1, Number.NaN, 0);
    await expect(tenant.upsertDocuments([documentOf('c', ['would be new']), refused])).rejects.toMatchObject({
      code: 'UPSTREAM_FAILED',
    });
    expect(await tenant.getDocuments(['c', 'd', 'e'])).toEqual([null, null, null]);
    expect(await tenant.getChunks('c')).toEqual([]);
    await expectStatisticsTrue('stats');

    await Promise.all([
      tenant.upsertDocuments([documentOf('f', ['one', 'two', 'three'])]),
      tenant.upsertDocuments([documentOf('g', ['four'])]),
      tenant.upsertDocuments([documentOf('a', ['a again', 'and again'])]),
      tenant.deleteDocument('empty'),
    ]);
    await expectStatisticsTrue('stats');
    expect((await tenant.getChunks('a')).map((chunk) => chunk.content)).toEqual(['a again', 'and again']);

    // The same document written twice, and written while deleted. (PGlite runs one transaction at
    // a time; on a server of its own, RAGQL_TEST_DATABASE_URL, these transactions overlap.)
    await Promise.all([
      tenant.upsertDocuments([documentOf('a', ['first writer', 'two', 'three'])]),
      tenant.upsertDocuments([documentOf('a', ['second writer'])]),
    ]);
    expect((await tenant.getChunks('a')).length).toBe((await tenant.getDocuments(['a']))[0]?.chunkCount);
    await expectStatisticsTrue('stats');
    await Promise.all([
      tenant.upsertDocuments([documentOf('f', ['rewritten', 'while', 'deleted'])]),
      tenant.deleteDocument('f'),
    ]);
    await expectStatisticsTrue('stats');
  });

  it('refuses text holding NUL, which PostgreSQL cannot store, as bad input, and stores nothing of the batch', async () => {
    const tenant = store.forTenant('nul');
    const titled = documentOf('titled', ['fine'], 'a \u0000 title');
    const tagged = { ...documentOf('tagged', ['fine']), metadata: { note: 'a \u0000 note' } };
    for (const bad of [titled, tagged]) {
      await expect(tenant.upsertDocuments([documentOf('first', ['fine']), bad])).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/NUL character/),
      });
    }
    expect(await tenant.getDocuments(['first'])).toEqual([null]);
    await expect(
      tenant.listDocuments({
        limit: 1,
        filter: [{ field: 'metadata.note', operator: 'eq', value: '\u0000' }],
      }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expectStatisticsTrue('nul');
  });

  it('matches nothing with an empty `in`, on metadata as on the title', async () => {
    const tenant = store.forTenant('stats');
    for (const field of ['metadata.kind', 'title']) {
      expect(
        await tenant.listDocuments({ limit: 10, filter: [{ field, operator: 'in', value: [] }] }),
      ).toEqual([]);
    }
  });

  it('stores a document of 7,000 chunks and a batch of 1,000 documents, and finds their words', async () => {
    const tenant = store.forTenant('large');
    const chunks = Array.from({ length: 7000 }, (_, index) => `common words and a rare word${index}`);
    await tenant.upsertDocuments([documentOf('big', chunks)]);
    expect(await tenant.getChunks('big')).toHaveLength(7000);
    const batch = Array.from({ length: 1000 }, (_, index) =>
      documentOf(`doc-${index}`, [`common batch${index}`]),
    );
    await tenant.upsertDocuments(batch);
    expect((await tenant.listDocuments({ limit: 2000, filter: [] })).length).toBe(1001);
    await expectStatisticsTrue('large');
    // A term in every chunk.
    const everywhere = await tenant.search(keywordSearch('common', 5));
    expect(everywhere).toHaveLength(5);
    expect((await tenant.search(keywordSearch('word6999', 1)))[0]?.chunk.id).toBe('big#6999');
    // A re-upsert replaces all 7,000 chunks.
    await tenant.upsertDocuments([documentOf('big', chunks.slice(0, 10))]);
    expect(await tenant.getChunks('big')).toHaveLength(10);
    await expectStatisticsTrue('large');
  }, 120_000);
});

describe("the PostgreSQL store's vector search beyond the index's scan", () => {
  const postgres = usePostgres();
  let store: PostgresStore;

  beforeAll(async () => {
    store = new PostgresStore({ connectionString: postgres.url });
    await store.bindEmbeddingSpace(space);
  });
  afterAll(async () => {
    await store?.close();
  });

  const pointing = (document: DocumentToStore, ...axes: number[]) => {
    (document.chunks[0] as { embedding?: Float32Array }).embedding = Float32Array.from(axes);
    return document;
  };
  const nearest = (filter: SearchRequest['filter']): SearchRequest => ({
    text: '',
    vector: Float32Array.of(1, 0, 0),
    alpha: 1,
    fusion: 'relativeScore',
    limit: 5,
    filter,
  });

  it('finds the chunks that pass the tenant and the filter however many nearer chunks do not', async () => {
    // 500 chunks nearer the query than the one the filter and the other tenant keep.
    const crowd = Array.from({ length: 500 }, (_, index) =>
      pointing(
        { ...documentOf(`crowd-${index}`, ['near']), metadata: { kind: 'common' } },
        1,
        index / 1000,
        0,
      ),
    );
    await store.forTenant('large').upsertDocuments(crowd);
    await store
      .forTenant('large')
      .upsertDocuments([pointing({ ...documentOf('rare', ['far']), metadata: { kind: 'rare' } }, 0, 0, 1)]);
    await store.forTenant('small').upsertDocuments([pointing(documentOf('far', ['far']), 0, 0, 1)]);
    // pgvector's iterative scan gives up after hnsw.max_scan_tuples (20,000 by default) index
    // tuples; 50 here stands for a database with more than 20,000 nearer chunks. PGlite is one
    // session, so the setting (and the statistics that make the planner take the index) hold for
    // the store's connections too.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query('ANALYZE');
    await client.query('SET hnsw.max_scan_tuples = 50');
    await client.end();
    const rare = await store
      .forTenant('large')
      .search(nearest([{ field: 'metadata.kind', operator: 'eq', value: 'rare' }]));
    expect(rare.map((hit) => hit.chunk.id)).toEqual(['rare#0']);
    expect((await store.forTenant('small').search(nearest([]))).map((hit) => hit.chunk.id)).toEqual([
      'far#0',
    ]);
    expect(await store.forTenant('large').search(nearest([]))).toHaveLength(5);
  });
});

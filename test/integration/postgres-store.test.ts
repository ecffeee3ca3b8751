/**
 * What the PostgreSQL store does beyond the store contract: its BM25 is the embedded store's, score
 * for score, with each tenant's statistics its own; every statement it issues against a tenant's
 * rows names the tenant; and a database an older ragql migrated is brought up to date, its chunks
 * kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentToStore, SearchRequest, StoreEngine } from '../../src/ports.ts';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { chunkPostings } from '../../src/stores/postgres/bm25.ts';
import { migrate, schemaVersion } from '../../src/stores/postgres/migrations.ts';
import { PostgresConnection } from '../../src/stores/postgres/postgres-connection.ts';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { tablesIn } from '../../src/stores/postgres/tables.ts';
import { analyzeTerms } from '../../src/text/analysis.ts';
import { usePostgres } from '../support/postgres.ts';

/** Titles, repeats and lengths that differ, so that IDF, term frequency and length all weigh in. */
const corpus: { id: string; title: string | null; chunks: string[] }[] = [
  {
    id: 'tides',
    title: 'Tides',
    chunks: ['The moon pulls the ocean and the tides rise.', 'Spring tides are the highest tides.'],
  },
  { id: 'moon', title: 'The Moon', chunks: ['The moon orbits the earth every month.'] },
  { id: 'ocean', title: null, chunks: ['Ocean currents move warm water; currents and tides mix the ocean.'] },
  {
    id: 'harbour',
    title: 'Harbour pilots',
    chunks: ['Pilots read the tide tables before a ship enters the harbour at high tide, twice a day.'],
  },
];

function documentsOf(tenantSuffix = ''): DocumentToStore[] {
  return corpus.map((document) => ({
    id: `${document.id}${tenantSuffix}`,
    title: document.title,
    source: null,
    metadata: {},
    contentHash: `content-${document.id}`,
    revisionHash: `revision-${document.id}`,
    chunkCount: document.chunks.length,
    chunks: document.chunks.map((content, index) => ({
      id: `${document.id}${tenantSuffix}#${index}`,
      documentId: `${document.id}${tenantSuffix}`,
      index,
      content,
      startOffset: 0,
      endOffset: content.length,
      contentHash: `chunk-${document.id}-${index}`,
      pages: null,
      sectionPath: [],
    })),
  }));
}

const keywordSearch = (text: string): SearchRequest => ({
  text,
  alpha: 0,
  fusion: 'relativeScore',
  limit: 10,
  filter: [],
});
const queries = ['tides', 'moon ocean', 'the highest spring tide', 'harbour pilots currents'];

async function scores(store: StoreEngine, tenant: string, text: string): Promise<[string, number][]> {
  const hits = await store.forTenant(tenant).search(keywordSearch(text));
  return hits.map((hit) => [hit.chunk.id, hit.keywordScore ?? Number.NaN]);
}

describe('the PostgreSQL store', () => {
  const postgres = usePostgres();
  let store: PostgresStore;
  let embedded: EmbeddedStore;
  let dataDir: string;

  beforeAll(async () => {
    store = new PostgresStore({ connectionString: postgres.url });
    await store.bindEmbeddingSpace(null);
    dataDir = mkdtempSync(join(tmpdir(), 'ragql-bm25-'));
    embedded = new EmbeddedStore({ dataDir });
    await embedded.bindEmbeddingSpace(null);
    await store.forTenant('acme').upsertDocuments(documentsOf());
    await embedded.forTenant('acme').upsertDocuments(documentsOf());
  });
  afterAll(async () => {
    await store?.close();
    await embedded?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("ranks keywords with the embedded store's BM25: the same chunks, in the same order, with the same scores", async () => {
    for (const query of queries) {
      const expected = await scores(embedded, 'acme', query);
      const actual = await scores(store, 'acme', query);
      expect(expected.length).toBeGreaterThan(0);
      expect(actual.map(([id]) => id)).toEqual(expected.map(([id]) => id));
      for (const [position, [, score]] of actual.entries()) {
        expect(score).toBeCloseTo(expected[position]?.[1] ?? Number.NaN, 9);
      }
    }
  });

  it("keeps each tenant's statistics its own: another tenant's documents do not move its scores", async () => {
    const before = await scores(store, 'acme', 'tides moon');
    // Many more documents, all about tides, in another tenant: shared statistics would lower the
    // IDF of "tides" for acme too.
    const crowd = Array.from({ length: 5 }, (_, copy) => documentsOf(`-${copy}`)).flat();
    await store.forTenant('globex').upsertDocuments(crowd);
    expect(await scores(store, 'acme', 'tides moon')).toEqual(before);
    await store.forTenant('globex').deleteDocument('tides-0');
    expect(await scores(store, 'acme', 'tides moon')).toEqual(before);
  });

  it('names the tenant in every statement it issues against tenant rows', async () => {
    const statements: string[] = [];
    const originalQuery = pg.Client.prototype.query;
    // Observes the statements the pool's clients send; each still runs as sent.
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const [config] = args;
      const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text;
      if (text) statements.push(text);
      return (originalQuery as (...inner: unknown[]) => unknown).apply(this, args);
    } as typeof originalQuery;
    try {
      const tenant = store.forTenant('initech');
      await tenant.upsertDocuments(documentsOf());
      await tenant.upsertDocuments(documentsOf().slice(0, 2));
      await tenant.getDocuments(['tides', 'moon']);
      await tenant.listDocuments({
        limit: 2,
        after: 'a',
        before: 'z',
        filter: [{ field: 'title', operator: 'exists', value: true }],
      });
      await tenant.getChunks('tides');
      await tenant.getChunkEmbeddings('tides');
      await tenant.search({
        ...keywordSearch('tides'),
        filter: [{ field: 'metadata.kind', operator: 'eq', value: 'x' }],
      });
      await tenant.search(keywordSearch('moon'));
      await tenant.deleteDocument('moon');
    } finally {
      pg.Client.prototype.query = originalQuery;
    }
    const tenantTables = /\bragql_(documents|chunks|chunk_terms|tenant_stats)\b/g;
    const touching = statements.filter((statement) => tenantTables.test(statement));
    expect(touching.length).toBeGreaterThan(10);
    for (const statement of touching) {
      const tables = statement.match(tenantTables)?.length ?? 0;
      const tenantConditions = statement.match(/\btenant\b/g)?.length ?? 0;
      expect({ statement, enoughTenantConditions: tenantConditions >= tables }).toEqual({
        statement,
        enoughTenantConditions: true,
      });
    }
  });
});

describe('the PostgreSQL store on a database an older ragql wrote (schema version 1)', () => {
  const postgres = usePostgres();

  /** A document and its chunk as ragql wrote them before chunks had locations. */
  async function writeAsVersion1(): Promise<void> {
    const connection = new PostgresConnection({ connectionString: postgres.url });
    try {
      await migrate(connection, tablesIn(undefined), 1);
      await connection.transaction('write as schema version 1', async (client) => {
        await client.query("INSERT INTO ragql_meta (key, value) VALUES ('embedding_space', 'null')");
        await client.query(
          `INSERT INTO ragql_documents (tenant, id, title, source, metadata, content_hash, revision_hash, chunk_count, created_at, updated_at)
           VALUES ('acme', 'old', 'Old tides', NULL, '{}', 'content-old', 'revision-old', 1, now(), now())`,
        );
        const content = 'The old tides rose twice a day.';
        const terms = chunkPostings(analyzeTerms('Old tides'), {
          id: 'old#0',
          documentId: 'old',
          index: 0,
          content,
          startOffset: 0,
          endOffset: content.length,
          contentHash: 'chunk-old',
          pages: null,
          sectionPath: [],
        });
        const { rows } = await client.query<{ key: string }>(
          `INSERT INTO ragql_chunks (tenant, id, document_id, chunk_index, content, start_offset, end_offset, content_hash, term_count)
           VALUES ('acme', 'old#0', 'old', 0, $1, 0, $2, 'chunk-old', $3) RETURNING key`,
          [content, content.length, terms.length],
        );
        for (const [term, frequency] of terms.frequencies) {
          await client.query(
            `INSERT INTO ragql_chunk_terms (tenant, term, chunk_key, frequency, chunk_length, document_id)
             VALUES ('acme', $1, $2, $3, $4, 'old')`,
            [term, rows[0]?.key, frequency, terms.length],
          );
        }
        await client.query(
          "INSERT INTO ragql_tenant_stats (tenant, chunk_count, term_count) VALUES ('acme', 1, $1)",
          [terms.length],
        );
      });
    } finally {
      await connection.close();
    }
  }

  it("adds the chunks' location column, reads the older chunks as on no page and in no section, and keeps new chunks' locations", async () => {
    await writeAsVersion1();
    const store = new PostgresStore({ connectionString: postgres.url });
    try {
      await store.bindEmbeddingSpace(null);
      const tenant = store.forTenant('acme');
      const [oldChunk] = await tenant.getChunks('old');
      expect(oldChunk).toEqual({
        id: 'old#0',
        documentId: 'old',
        index: 0,
        content: 'The old tides rose twice a day.',
        startOffset: 0,
        endOffset: 31,
        contentHash: 'chunk-old',
        pages: null,
        sectionPath: [],
      });
      expect((await tenant.search(keywordSearch('tides'))).map((hit) => hit.chunk)).toEqual([oldChunk]);

      const [tides] = documentsOf();
      if (!tides) throw new Error('the corpus has no documents');
      const located = {
        ...tides,
        chunks: tides.chunks.map((chunk, index) =>
          index === 0
            ? { ...chunk, pages: { first: 4, last: 5 }, sectionPath: ['Tides', 'Spring «tides»'] }
            : { ...chunk, sectionPath: ['Tides'] },
        ),
      };
      await tenant.upsertDocuments([located]);
      expect(await tenant.getChunks('tides')).toEqual(located.chunks);
      const hits = await tenant.search(keywordSearch('spring tides'));
      expect(hits.map((hit) => hit.chunk)).toEqual(expect.arrayContaining([...located.chunks, oldChunk]));

      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      const versions = await client.query('SELECT version FROM ragql_migrations ORDER BY version');
      await client.end();
      expect(versions.rows.map((row) => row.version)).toEqual(
        Array.from({ length: schemaVersion }, (_, index) => index + 1),
      );
    } finally {
      await store.close();
    }
  });
});

describe('the PostgreSQL store on a server without pgvector', () => {
  // The machine's own PostgreSQL 15 (Debian 12 packages no pgvector for it), started before the
  // tests as Redis is: a real server that refuses the extension.
  const withoutPgvector =
    process.env.RAGQL_TEST_PLAIN_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

  it("refuses to start, with PostgreSQL's own reason naming the missing extension, and leaves no table behind", async () => {
    const store = new PostgresStore({ connectionString: withoutPgvector });
    try {
      const refusal = await store.bindEmbeddingSpace(null).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).toMatchObject({ code: 'UPSTREAM_FAILED' });
      expect((refusal as Error).message).toMatch(
        /PostgreSQL refused ragql's schema migration 1 \(.*\): extension "vector" is not available/,
      );
      const client = new pg.Client({ connectionString: withoutPgvector });
      await client.connect();
      const leftOver = await client.query("SELECT to_regclass('ragql_migrations') AS tables");
      await client.end();
      expect(leftOver.rows[0]?.tables).toBeNull();
      const readiness = await store.readiness();
      expect(readiness).toMatchObject({ ready: false, reason: expect.stringMatching(/extension "vector"/) });
    } finally {
      await store.close();
    }
  });
});

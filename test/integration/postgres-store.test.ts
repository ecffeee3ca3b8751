/**
 * What the PostgreSQL store does beyond the store contract: its BM25 is the embedded store's, score
 * for score, with each tenant's statistics its own; and every statement it issues against a
 * tenant's rows names the tenant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentToStore, SearchRequest, StoreEngine } from '../../src/ports.ts';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
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

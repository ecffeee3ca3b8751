/**
 * The Pinecone store on what the contract cannot show: writes faster than Pinecone shows them
 * (its eventual consistency, played by the stand-in's freshness delay), writes Pinecone fails
 * halfway, indexes ragql cannot use, Pinecone's narrower limits, a Pinecone that is not there
 * yet when ragql starts, and chunk records an older ragql wrote.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pinecone } from '@pinecone-database/pinecone';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddingSpace, SearchRequest, TenantStore } from '../../src/ports.ts';
import { PineconeGenerations } from '../../src/stores/pinecone/pinecone-generations.ts';
import { PineconeStore } from '../../src/stores/pinecone/pinecone-store.ts';
import { freePort } from '../support/free-port.ts';
import {
  type PineconeStandin,
  type PineconeStandinOptions,
  startPineconeStandin,
} from '../support/pinecone-standin.ts';
import { ragqlRejectionOf } from '../support/rejection.ts';
import { storedDocument } from '../support/stored-document.ts';

const space: EmbeddingSpace = { provider: 'test', modelId: 'words', dimensions: 8 };
const running: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((part) => part.close()));
});

async function standin(options: PineconeStandinOptions = {}): Promise<PineconeStandin> {
  const started = await startPineconeStandin({ dimension: space.dimensions, ...options });
  running.push(started);
  return started;
}

/** A store bound to `space`; it retries nothing unless told to. */
async function storeOn(
  pinecone: PineconeStandin,
  retries: { maxRetries: number; retryDelayMs?: number } = { maxRetries: 0 },
): Promise<PineconeStore> {
  const store = new PineconeStore({ apiKey: pinecone.apiKey, indexHost: pinecone.host, ...retries });
  running.push(store);
  await store.bindEmbeddingSpace(space);
  return store;
}

const documentOf = (id: string, texts: string[], revision = '1') =>
  storedDocument({ id, texts, revision, dimensions: space.dimensions });

const keywordSearch = (text: string): SearchRequest => ({
  text,
  alpha: 0,
  fusion: 'relativeScore',
  limit: 20,
  filter: [],
});

/** How many records each namespace of the index holds, as Pinecone counts them. */
async function recordCounts(pinecone: PineconeStandin): Promise<Record<string, number>> {
  const stats = await new Pinecone({ apiKey: pinecone.apiKey, maxRetries: 0 })
    .index({ host: pinecone.host })
    .describeIndexStats();
  return Object.fromEntries(
    Object.entries(stats.namespaces ?? {}).map(([name, { recordCount }]) => [name, recordCount]),
  );
}

/** Ingests, re-ingests, replaces and deletes, one call right after another. */
async function busyDay(tenant: TenantStore): Promise<void> {
  await tenant.upsertDocuments([
    documentOf('tides', ['The moon pulls the tides.', 'Spring tides follow the full moon.']),
    documentOf('rivers', ['Rivers carry sediment to the sea.']),
  ]);
  await tenant.upsertDocuments([documentOf('glaciers', ['Glaciers carve valleys and feed rivers.'])]);
  await tenant.upsertDocuments([
    documentOf('tides', ['The moon pulls the tides.', 'Spring tides follow the full moon.']),
  ]);
  await tenant.upsertDocuments([
    documentOf('rivers', ['Rivers drop sediment where they slow.', 'Deltas grow at the sea.'], '2'),
  ]);
  expect(await tenant.deleteDocument('glaciers')).toBe(true);
}

describe('the Pinecone store', () => {
  it('keeps the keyword statistics and records of writes faster than Pinecone shows them', async () => {
    const immediate = await standin();
    const delayed = await standin({ freshnessDelayMs: 400 });
    const [now, later] = [await storeOn(immediate), await storeOn(delayed)];
    await busyDay(now.forTenant('acme'));
    await busyDay(later.forTenant('acme'));
    await sleep(500);
    for (const query of ['moon tides', 'rivers sediment sea', 'glaciers valleys']) {
      const expected = await now.forTenant('acme').search(keywordSearch(query));
      const found = await later.forTenant('acme').search(keywordSearch(query));
      expect(found.map((hit) => [hit.chunk.id, hit.score])).toEqual(
        expected.map((hit) => [hit.chunk.id, hit.score]),
      );
    }
    expect((await now.forTenant('acme').search(keywordSearch('moon'))).length).toBeGreaterThan(0);
    // Two documents of 2 chunks each, and the statistics: nothing of the replaced or deleted left.
    expect(await recordCounts(delayed)).toEqual(await recordCounts(immediate));
  });

  it('reads its own writes at once, though Pinecone shows them later', async () => {
    const store = await storeOn(await standin({ freshnessDelayMs: 60_000 }));
    const tenant = store.forTenant('acme');
    await tenant.upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
    const [stored] = await tenant.getDocuments(['tides']);
    expect(stored?.chunkCount).toBe(1);
    expect((await tenant.getChunks('tides')).map((chunk) => chunk.content)).toEqual([
      'The moon pulls the tides.',
    ]);
    expect(await tenant.deleteDocument('tides')).toBe(true);
    expect(await tenant.getDocuments(['tides'])).toEqual([null]);
  });

  it("reads another process's newer write over its own older one", async () => {
    const pinecone = await standin();
    const [first, second] = [
      (await storeOn(pinecone)).forTenant('acme'),
      (await storeOn(pinecone)).forTenant('acme'),
    ];
    const version = (revision: string) =>
      documentOf('tides', [`The moon pulls the tides, version ${revision}.`], revision);
    await first.upsertDocuments([version('1')]);
    await second.upsertDocuments([version('2')]);
    // The first process's own write is older than what Pinecone now holds: it writes version 1 again.
    await first.upsertDocuments([version('1')]);
    for (const reader of [first, second]) {
      expect((await reader.getDocuments(['tides']))[0]?.revisionHash).toBe(version('1').revisionHash);
      expect((await reader.getChunks('tides')).map((chunk) => chunk.content)).toEqual([
        'The moon pulls the tides, version 1.',
      ]);
    }
  });

  it('lists its own writes at once and in order, though Pinecone lists them later', async () => {
    const tenant = (await storeOn(await standin({ freshnessDelayMs: 60_000 }))).forTenant('acme');
    await tenant.upsertDocuments([
      documentOf('rivers', ['Rivers carry sediment.']),
      documentOf('glaciers', ['Glaciers carve valleys.']),
      documentOf('tides', ['The moon pulls the tides.']),
    ]);
    const ids = async (request: { after?: string; descending?: boolean; limit?: number }) =>
      (await tenant.listDocuments({ limit: 10, filter: [], ...request })).map((document) => document.id);
    expect(await ids({})).toEqual(['glaciers', 'rivers', 'tides']);
    expect(await ids({ after: 'glaciers', limit: 1 })).toEqual(['rivers']);
    expect(await ids({ descending: true, limit: 2 })).toEqual(['tides', 'rivers']);
    await tenant.deleteDocument('rivers');
    expect(await ids({})).toEqual(['glaciers', 'tides']);
  });

  it('leaves out of a listing a document this process deleted, though Pinecone shows it still', async () => {
    const tenant = (await storeOn(await standin({ freshnessDelayMs: 300 }))).forTenant('acme');
    await tenant.upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
    await sleep(400);
    expect(await tenant.deleteDocument('tides')).toBe(true);
    const filter = [{ field: 'metadata.revision', operator: 'eq' as const, value: '1' }];
    expect(await tenant.listDocuments({ limit: 10, filter })).toEqual([]);
    expect(await tenant.listDocuments({ limit: 10, filter: [] })).toEqual([]);
  });

  for (const [step, skip] of [
    ['the new chunks', 0],
    ['the document records', 1],
  ] as const) {
    it(`keeps the revision before, and nothing of the write, when Pinecone fails ${step}`, async () => {
      const pinecone = await standin();
      const tenant = (await storeOn(pinecone)).forTenant('acme');
      await tenant.upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
      const before = await recordCounts(pinecone);
      pinecone.failNext(500, undefined, { route: 'POST /vectors/upsert', skip });
      const failure = await ragqlRejectionOf(
        tenant.upsertDocuments([
          documentOf('tides', ['Tides rise twice a day.'], '2'),
          documentOf('rivers', ['Rivers carry sediment.']),
        ]),
      );
      expect(failure.code).toBe('UPSTREAM_FAILED');
      expect(failure.message).toContain('Pinecone answered with a failure');
      const [tides, rivers] = await tenant.getDocuments(['tides', 'rivers']);
      expect(tides?.revisionHash).toBe(documentOf('tides', [], '1').revisionHash);
      expect(rivers).toBeNull();
      expect((await tenant.getChunks('tides')).map((chunk) => chunk.content)).toEqual([
        'The moon pulls the tides.',
      ]);
      expect((await tenant.search(keywordSearch('tides rivers'))).map((hit) => hit.chunk.id)).toEqual([
        'tides#0',
      ]);
      expect(await recordCounts(pinecone)).toEqual(before);
    });
  }

  it('deletes with a document what a write cut short left of it, leaving its tenant empty', async () => {
    const pinecone = await standin();
    const tenant = (await storeOn(pinecone)).forTenant('acme');
    await tenant.upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
    const before = (await recordCounts(pinecone)).acme ?? 0;
    // The switch fails, and so does the rollback's delete of the new chunks: they are left over.
    pinecone.failNext(500, undefined, { route: 'POST /vectors/upsert', skip: 1 });
    pinecone.failNext(500, undefined, { route: 'POST /vectors/delete' });
    await ragqlRejectionOf(
      tenant.upsertDocuments([documentOf('tides', ['Tides rise twice.', 'And fall.'], '2')]),
    );
    expect((await tenant.getChunks('tides')).map((chunk) => chunk.content)).toEqual([
      'The moon pulls the tides.',
    ]);
    expect((await recordCounts(pinecone)).acme).toBe(before + 2);

    expect(await tenant.deleteDocument('tides')).toBe(true);
    expect(await recordCounts(pinecone)).not.toHaveProperty('acme');
  });

  it('takes a delete where Pinecone has no namespace (never written, or dropped by another process) as done', async () => {
    const pinecone = await standin();
    const generations = new PineconeGenerations({
      apiKey: pinecone.apiKey,
      indexHost: pinecone.host,
      maxRetries: 0,
    });
    const built = await generations.open(1);
    await built.bindEmbeddingSpace(space);
    await built.forTenant('harbour').upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
    await generations.drop(1);
    // Another process drops it too: the namespaces it lists from this one's writes are gone.
    await generations.drop(1);
    expect(Object.keys(await recordCounts(pinecone)).filter((name) => name.startsWith('ragql.g1.'))).toEqual(
      [],
    );
    // A tenant never written has no namespace either.
    expect(await (await storeOn(pinecone)).forTenant('nobody').deleteDocument('tides')).toBe(false);
  });

  it('retries rate limits and server errors with backoff, and not a request Pinecone refuses', async () => {
    const pinecone = await standin();
    const tenant = (await storeOn(pinecone, { maxRetries: 2, retryDelayMs: 1 })).forTenant('acme');
    const sent = () => pinecone.requests.length;

    let before = sent();
    pinecone.failNext(429);
    pinecone.failNext(503);
    expect(await tenant.getDocuments(['tides'])).toEqual([null]);
    expect(sent() - before).toBe(3);

    before = sent();
    for (const status of [429, 500, 429]) pinecone.failNext(status);
    const exhausted = await ragqlRejectionOf(tenant.getDocuments(['rivers']));
    expect(exhausted.code).toBe('UPSTREAM_FAILED');
    expect(sent() - before).toBe(3);

    before = sent();
    pinecone.failNext(400);
    expect((await ragqlRejectionOf(tenant.getDocuments(['glaciers']))).code).toBe('UPSTREAM_FAILED');
    expect(sent() - before).toBe(1);
  });

  it('searches on past the 4 MB a Pinecone query result may hold, for a filter ragql checks itself', async () => {
    const tenant = (await storeOn(await standin())).forTenant('acme');
    const notes = Array.from({ length: 5 }, (_, index) => `${index}`.padEnd(3800, 'x'));
    const names = Array.from({ length: 300 }, (_, index) => `n${String(index).padStart(3, '0')}`);
    await tenant.upsertDocuments(
      names.map((name) => ({
        ...documentOf(name, [`The moon pulls the tides, note ${name}.`]),
        metadata: { notes, name },
      })),
    );
    // A string range: Pinecone keeps every chunk with a name, ragql the 9 past n290, so the query
    // grows to rank all 300, whose records (19 KB each) would pass 4 MB in one result.
    const filter = [{ field: 'metadata.name', operator: 'gt' as const, value: 'n290' }];
    const hits = await tenant.search({ ...keywordSearch('moon tides'), limit: 10, filter });
    expect(hits.map((hit) => hit.chunk.documentId).sort()).toEqual(names.slice(291));
  });

  it('refuses another embedding model while any tenant holds records, whatever its statistics say', async () => {
    const pinecone = await standin();
    const store = await storeOn(pinecone);
    await store.forTenant('acme').upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
    // Statistics that drifted to nothing (say, two processes' writes crossed) must not let it in.
    await new Pinecone({ apiKey: pinecone.apiKey, maxRetries: 0 })
      .index({ host: pinecone.host })
      .namespace('acme')
      .deleteMany({ ids: ['s:corpus'] });
    // Another process, which knows only what Pinecone holds.
    const restarted = new PineconeStore({ apiKey: pinecone.apiKey, indexHost: pinecone.host, maxRetries: 0 });
    const refusal = await ragqlRejectionOf(restarted.bindEmbeddingSpace({ ...space, modelId: 'other' }));
    expect(refusal.code).toBe('EMBEDDING_SPACE_MISMATCH');
  });

  it('refuses an index of other dimensions, saying how to get one that fits', async () => {
    const pinecone = await standin({ dimension: 4 });
    const store = new PineconeStore({ apiKey: pinecone.apiKey, indexHost: pinecone.host, maxRetries: 0 });
    const refusal = await ragqlRejectionOf(store.bindEmbeddingSpace(space));
    expect(refusal.code).toBe('EMBEDDING_SPACE_MISMATCH');
    expect(refusal.message).toContain('holds vectors of 4 dimensions');
    expect(refusal.message).toContain('create one of 8 dimensions with the dotproduct metric');
  });

  it('refuses an index that cannot answer keyword searches (not dotproduct)', async () => {
    const pinecone = await standin({ metric: 'cosine' });
    const store = new PineconeStore({ apiKey: pinecone.apiKey, indexHost: pinecone.host, maxRetries: 0 });
    const refusal = await ragqlRejectionOf(store.bindEmbeddingSpace(space));
    expect(refusal.code).toBe('UPSTREAM_FAILED');
    expect(refusal.message).toContain('create the index with the dotproduct metric');
  });

  it('refuses, before writing anything, a document Pinecone could not hold', async () => {
    const pinecone = await standin();
    const tenant = (await storeOn(pinecone)).forTenant('acme');
    const longId = '潮'.repeat(128);
    const refusal = await ragqlRejectionOf(
      tenant.upsertDocuments([documentOf(longId, ['The moon pulls the tides.'])]),
    );
    expect(refusal.code).toBe('BAD_USER_INPUT');
    expect(refusal.message).toContain('127 CJK characters');
    const fits = '潮'.repeat(127);
    await tenant.upsertDocuments([documentOf(fits, ['The moon pulls the tides.'])]);
    expect((await tenant.getDocuments([fits]))[0]?.id).toBe(fits);

    const heavy = {
      ...documentOf('heavy', ['The moon pulls the tides.']),
      metadata: { notes: Array(12).fill('x'.repeat(4000)) },
    };
    const tooMuch = await ragqlRejectionOf(tenant.upsertDocuments([heavy, documentOf('light', ['Light.'])]));
    expect(tooMuch.code).toBe('BAD_USER_INPUT');
    expect(tooMuch.message).toContain('Pinecone holds 40960');
    expect(await tenant.getDocuments(['heavy', 'light'])).toEqual([null, null]);
  });

  it('reads chunk records an older ragql wrote without a location as on no page and in no section, and keeps the locations written after', async () => {
    const pinecone = await standin();
    const texts = ['The moon pulls the tides.', 'Spring tides follow the full moon.'];
    await (await storeOn(pinecone)).forTenant('acme').upsertDocuments([
      storedDocument({
        id: 'tides',
        texts,
        dimensions: space.dimensions,
        locations: [{ pages: { first: 1, last: 2 }, sectionPath: ['Tides'] }, { sectionPath: ['Spring'] }],
      }),
    ]);
    // The chunk records as ragql wrote them before chunks had locations: the same, without `loc`.
    const namespace = new Pinecone({ apiKey: pinecone.apiKey, maxRetries: 0 })
      .index({ host: pinecone.host })
      .namespace('acme');
    const listed = await namespace.listPaginated({ prefix: 'c:' });
    const ids = (listed.vectors ?? []).flatMap((vector) => (vector.id ? [vector.id] : []));
    expect(ids).toHaveLength(2);
    const { records } = await namespace.fetch({ ids });
    await namespace.upsert({
      records: Object.values(records).map(({ metadata, ...record }) => {
        const { loc, ...older } = metadata ?? {};
        expect(loc).toEqual(expect.any(String));
        return { ...record, metadata: older };
      }),
    });

    // Another process, which knows only what Pinecone holds.
    const tenant = (await storeOn(pinecone)).forTenant('acme');
    const older = storedDocument({ id: 'tides', texts, dimensions: space.dimensions });
    const olderChunks = older.chunks.map(({ embedding, ...chunk }) => chunk);
    expect(olderChunks.map((chunk) => [chunk.pages, chunk.sectionPath])).toEqual([
      [null, []],
      [null, []],
    ]);
    expect(await tenant.getChunks('tides')).toEqual(olderChunks);
    expect((await tenant.search(keywordSearch('spring tides'))).map((hit) => hit.chunk)).toEqual(
      expect.arrayContaining(olderChunks),
    );

    const located = storedDocument({
      id: 'tides',
      texts,
      revision: '2',
      dimensions: space.dimensions,
      locations: [{ pages: { first: 3, last: 3 }, sectionPath: ['Tides', 'Spring «tides»'] }, {}],
    });
    await tenant.upsertDocuments([located]);
    const locatedChunks = located.chunks.map(({ embedding, ...chunk }) => chunk);
    expect(await tenant.getChunks('tides')).toEqual(locatedChunks);
    expect((await tenant.search(keywordSearch('spring tides'))).map((hit) => hit.chunk)).toEqual(
      expect.arrayContaining(locatedChunks),
    );
  });

  it('starts without Pinecone, says why it is not ready, and serves once Pinecone answers', async () => {
    const port = await freePort();
    const store = new PineconeStore({
      apiKey: 'pinecone-standin-key',
      indexHost: `http://127.0.0.1:${port}`,
      maxRetries: 0,
    });
    running.push(store);
    const unreachable = await ragqlRejectionOf(store.bindEmbeddingSpace(space));
    expect(unreachable.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(await store.readiness()).toEqual({
      ready: false,
      reason: expect.stringContaining('cannot be reached'),
    });
    const tenant = store.forTenant('acme');
    expect((await ragqlRejectionOf(tenant.getDocuments(['tides']))).code).toBe('UPSTREAM_UNAVAILABLE');

    await standin({ port });
    expect(await store.readiness()).toEqual({ ready: true });
    await tenant.upsertDocuments([documentOf('tides', ['The moon pulls the tides.'])]);
    expect((await tenant.search(keywordSearch('moon'))).map((hit) => hit.chunk.id)).toEqual(['tides#0']);
  });
});

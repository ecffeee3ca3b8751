/**
 * The embedded store and the ingestion pipeline against a real SQLite file in a temporary folder.
 * Vectors come from the deterministic test embedding, so a test can compute the similarity the
 * store should report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultTenant,
  type Embedder,
  type EmbeddingSpace,
  type SearchRequest,
  type TenantStore,
} from '../../src/ports.ts';
import type { ChunkingOptions } from '../../src/rag/chunking.ts';
import { ChunkingThread } from '../../src/rag/chunking-thread.ts';
import type { DocumentInput } from '../../src/rag/document-input.ts';
import { IngestService } from '../../src/rag/ingest.ts';
import { KeyedLocks } from '../../src/rag/keyed-locks.ts';
import { EmbeddedStore } from '../../src/stores/embedded/embedded-store.ts';
import { EmbeddedTenantStore } from '../../src/stores/embedded/embedded-tenant-store.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import { ragqlRejectionOf } from '../support/rejection.ts';
import { sha256, storedDocument } from '../support/stored-document.ts';

const dimensions = 32;

/** An embedder port on top of the deterministic embedding that records the texts of every call. */
interface CountingEmbedder extends Embedder {
  calls: string[][];
}

function countingEmbedder(
  options: { modelId?: string; dimensions?: number; maxEmbeddingsPerCall?: number; failOnCall?: number } = {},
): CountingEmbedder {
  const size = options.dimensions ?? dimensions;
  const calls: string[][] = [];
  return {
    specificationVersion: 'v1',
    provider: 'test',
    modelId: options.modelId ?? 'hashed-words',
    dimensions: size,
    maxEmbeddingsPerCall: options.maxEmbeddingsPerCall ?? 100,
    calls,
    async embed(texts) {
      calls.push([...texts]);
      if (calls.length === options.failOnCall) throw new Error('the embedding provider is down');
      return { embeddings: texts.map((text) => vectorOf(text, size)) };
    },
  };
}

function vectorOf(text: string, size = dimensions): Float32Array {
  return Float32Array.from(deterministicEmbedding(text, size));
}

function spaceOf(embedder: Embedder): EmbeddingSpace {
  return { provider: embedder.provider, modelId: embedder.modelId, dimensions: embedder.dimensions };
}

/** A folder under the system temp dir, and the stores opened in it, all closed and removed after each test. */
function useTemporaryStores() {
  const state = { folder: '', opened: [] as { close(): Promise<void> }[] };
  beforeEach(() => {
    state.folder = mkdtempSync(join(tmpdir(), 'ragql-store-test-'));
  });
  afterEach(async () => {
    for (const store of state.opened.splice(0)) await store.close();
    rmSync(state.folder, { recursive: true, force: true });
  });
  return {
    get path() {
      return join(state.folder, 'ragql.sqlite');
    },
    /** Opens (or reopens) the default tenant's file and binds it to the space. */
    async open(space: EmbeddingSpace | null): Promise<EmbeddedTenantStore> {
      const store = new EmbeddedTenantStore({ path: join(state.folder, 'ragql.sqlite') });
      state.opened.push(store);
      await store.bindEmbeddingSpace(space);
      return store;
    },
    /** Opens (or reopens) the store over the folder, bound to the space, and its default tenant. */
    async openEngine(space: EmbeddingSpace | null): Promise<{ engine: EmbeddedStore; store: TenantStore }> {
      const engine = new EmbeddedStore({ dataDir: state.folder });
      state.opened.push(engine);
      await engine.bindEmbeddingSpace(space);
      return { engine, store: engine.forTenant(defaultTenant) };
    },
  };
}

const limits = { maxDocumentBytes: 1 << 20, maxDocumentsPerRequest: 100 };
/** Small chunks without overlap, so each paragraph below is a chunk of its own. */
const paragraphChunking: ChunkingOptions = { chunkSize: 24, chunkOverlap: 0 };

const chunkingThread = new ChunkingThread();
afterAll(() => chunkingThread.close());

/** Ingestion into the default tenant of `store`. */
function ingestService(
  store: EmbeddedStore,
  embedder: Embedder | null,
  options: { chunking?: ChunkingOptions; embeddingBatchSize?: number } = {},
) {
  const service = new IngestService({
    store,
    embedder,
    chunking: options.chunking ?? paragraphChunking,
    chunks: chunkingThread,
    embeddingBatchSize: options.embeddingBatchSize ?? 64,
    limits,
    documentLocks: new KeyedLocks(),
  });
  return { ingest: (documents: readonly DocumentInput[]) => service.ingest(defaultTenant, documents) };
}

const paragraphs = [
  'Tides rise and fall twice a day because the moon pulls on the oceans.',
  'Volcanoes erupt when pressure from molten rock below the crust grows too high.',
  'Glaciers carve deep valleys as they slide slowly down mountain slopes.',
  'Coral reefs grow in warm shallow seas where sunlight reaches the sea floor.',
  'Deserts receive so little rain that only hardy plants survive there.',
  'Rivers carry sediment from the mountains and drop it at their deltas.',
  'Earthquakes happen when tectonic plates slip past each other suddenly.',
];

function searchRequest(text: string, overrides: Partial<SearchRequest> = {}): SearchRequest {
  return { text, alpha: 0, fusion: 'ranked', limit: 10, filter: [], ...overrides };
}

describe('writing to the embedded store', () => {
  const stores = useTemporaryStores();
  const space: EmbeddingSpace = { provider: 'test', modelId: 'hashed-words', dimensions };

  describe('deleteDocument', () => {
    it('removes the vectors of a store reopened without binding, as the file says it has them', async () => {
      const bound = await stores.open(space);
      await bound.upsertDocuments([
        storedDocument({ id: 'moon', texts: ['The moon pulls the tides.'], revision: '1', dimensions }),
      ]);
      await bound.close();
      const unbound = new EmbeddedTenantStore({ path: stores.path });
      expect(await unbound.deleteDocument('moon')).toBe(true);
      await unbound.close();
      // A vector left behind would collide with the reused chunk rowid of the next document.
      const rebound = await stores.open(space);
      await rebound.upsertDocuments([
        storedDocument({ id: 'sun', texts: ['The sun pulls the tides too.'], revision: '1', dimensions }),
      ]);
      const hits = await rebound.search(searchRequest('tides', { vector: vectorOf('tides'), alpha: 1 }));
      expect(hits.map((hit) => hit.chunk.documentId)).toEqual(['sun']);
    });
  });

  describe('a file written by an earlier ragql', () => {
    it('gains the chunk location column: its chunks read with no pages and no section, new ones keep theirs', async () => {
      const first = await stores.open(space);
      await first.upsertDocuments([
        storedDocument({ id: 'old', texts: ['Written before pages.'], dimensions }),
      ]);
      await first.close();
      // The file as schema version 1 left it: the same tables, without the location column.
      const file = new Database(stores.path);
      file.exec(
        "ALTER TABLE chunks DROP COLUMN location; UPDATE meta SET value = '1' WHERE key = 'schema_version'",
      );
      file.close();

      const reopened = await stores.open(space);
      expect(await reopened.getChunks('old')).toMatchObject([
        { content: 'Written before pages.', pages: null, sectionPath: [] },
      ]);
      const located = storedDocument({
        id: 'new',
        texts: ['Written with pages.'],
        dimensions,
        locations: [{ pages: { first: 3, last: 4 }, sectionPath: ['Results'] }],
      });
      await reopened.upsertDocuments([located]);
      expect(await reopened.getChunks('new')).toMatchObject([
        { pages: { first: 3, last: 4 }, sectionPath: ['Results'] },
      ]);
      await reopened.close();
      const migrated = new Database(stores.path, { readonly: true });
      expect(migrated.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('2');
      migrated.close();
    });
  });

  describe('binding an embedding space', () => {
    const otherModel: EmbeddingSpace = { provider: 'test', modelId: 'other-model', dimensions };

    // The store contract checks the refusal; the fix it names is the embedded store's own.
    it('refuses another model once chunks are stored, naming a new data dir as the other fix', async () => {
      const store = await stores.open(space);
      await store.upsertDocuments([
        storedDocument({ id: 'moon', texts: ['The moon pulls the tides.'], revision: '1', dimensions }),
      ]);
      const error = await ragqlRejectionOf(store.bindEmbeddingSpace(otherModel));
      expect(error.code).toBe('EMBEDDING_SPACE_MISMATCH');
      expect(error.message).toContain('RAGQL_DATA_DIR');
    });

    it('keeps refusing after the file is closed and reopened, and keeps its vectors', async () => {
      const first = await stores.open(space);
      const text = 'The moon pulls the tides.';
      await first.upsertDocuments([storedDocument({ id: 'moon', texts: [text], revision: '1', dimensions })]);
      await first.close();

      const reopened = new EmbeddedTenantStore({ path: stores.path });
      try {
        const error = await ragqlRejectionOf(reopened.bindEmbeddingSpace(otherModel));
        expect(error.code).toBe('EMBEDDING_SPACE_MISMATCH');
        expect(error.message).toContain('other-model');
        await reopened.bindEmbeddingSpace(space);
        const hits = await reopened.search(searchRequest(text, { vector: vectorOf(text), alpha: 1 }));
        expect(hits.map((hit) => hit.chunk.id)).toEqual(['moon#0']);
        expect(hits[0]?.vectorScore).toBeCloseTo(1, 5);
      } finally {
        await reopened.close();
      }
    });
  });

  describe('vector search beside another connection', () => {
    it('sees what another process writes and deletes, and its own writes at once', async () => {
      const server = await stores.open(space);
      const ingester = await stores.open(space);
      const moonText = 'The moon pulls the tides of the oceans.';
      const sunText = 'The sun warms the oceans and drives the winds.';
      const vectorSearch = (text: string) =>
        server.search(searchRequest(text, { vector: vectorOf(text), alpha: 1, limit: 5 }));

      await server.upsertDocuments([
        storedDocument({ id: 'sun', texts: [sunText], revision: '1', dimensions }),
      ]);
      expect((await vectorSearch(moonText)).map((hit) => hit.chunk.documentId)).toEqual(['sun']);

      await ingester.upsertDocuments([
        storedDocument({ id: 'moon', texts: [moonText], revision: '1', dimensions }),
      ]);
      expect((await vectorSearch(moonText)).map((hit) => hit.chunk.documentId)).toEqual(['moon', 'sun']);

      await ingester.deleteDocument('moon');
      expect((await vectorSearch(moonText)).map((hit) => hit.chunk.documentId)).toEqual(['sun']);

      await server.upsertDocuments([
        storedDocument({ id: 'moon', texts: [moonText], revision: '2', dimensions }),
      ]);
      expect((await vectorSearch(moonText)).map((hit) => hit.chunk.documentId)).toEqual(['moon', 'sun']);
      await server.deleteDocument('moon');
      // A stale entry for the deleted chunk would take the only slot and leave it empty.
      const nearest = await server.search(
        searchRequest(moonText, { vector: vectorOf(moonText), alpha: 1, limit: 1 }),
      );
      expect(nearest.map((hit) => hit.chunk.documentId)).toEqual(['sun']);
    });
  });

  describe('while a write is under way', () => {
    /** A document large enough that writing it takes the write thread a while. */
    const largeDocument = (id: string) =>
      storedDocument({
        id: id,
        texts: Array.from(
          { length: 3000 },
          (_, index) => `Passage ${index} of the ${id} almanac, marker ${id}word.`,
        ),
        revision: '1',
        dimensions,
      });

    it('answers searches from the last commit, and sees the write whole once it has resolved', async () => {
      const store = await stores.open(space);
      await store.upsertDocuments([
        storedDocument({ id: 'moon', texts: ['The moon pulls the tides.'], revision: '1', dimensions }),
      ]);
      let written = false;
      const writing = store.upsertDocuments([largeDocument('tides')]).then(() => {
        written = true;
      });

      const during = await store.search(searchRequest('tidesword moon'));
      expect(written).toBe(false);
      expect(during.map((hit) => hit.chunk.documentId)).toEqual(['moon']);

      await writing;
      const after = await store.search(searchRequest('tidesword', { limit: 5000 }));
      expect(after).toHaveLength(3000);
    });

    it('shows a write to keyword and vector search at the same moment, never to one alone', async () => {
      const store = await stores.open(space);
      const text = 'Passage 7 of the tides almanac, marker tidesword.';
      let written = false;
      const writing = store.upsertDocuments([largeDocument('tides')]).then(() => {
        written = true;
      });
      const seen: { keyword: boolean; vector: boolean }[] = [];
      const look = async () => {
        // Started together, the two searches read the same state of the store.
        const [keyword, vector] = await Promise.all([
          store.search(searchRequest('tidesword', { limit: 1 })),
          store.search(searchRequest(text, { vector: vectorOf(text), alpha: 1, limit: 1 })),
        ]);
        seen.push({ keyword: keyword.length > 0, vector: vector.length > 0 });
      };
      while (!written) {
        await look();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await writing;
      await look();
      expect(seen.every((state) => state.keyword === state.vector)).toBe(true);
      expect(seen.at(0)).toEqual({ keyword: false, vector: false });
      expect(seen.at(-1)).toEqual({ keyword: true, vector: true });
    });
  });

  describe('persistence', () => {
    it('serves the same documents, chunks and search results after the file is closed and reopened', async () => {
      const embedder = countingEmbedder();
      const { engine, store } = await stores.openEngine(spaceOf(embedder));
      await ingestService(engine, embedder).ingest([
        { id: 'earth', title: 'Earth', content: paragraphs.join('\n\n'), metadata: { topic: 'geology' } },
        { id: 'note', content: 'A short note about tides and the moon.', source: 'notebook' },
      ]);
      const query = 'moon tides mountains';
      const vector = vectorOf(query);
      const snapshot = async (target: TenantStore) => ({
        documents: await target.getDocuments(['earth', 'note']),
        page: await target.listDocuments({ limit: 10, filter: [] }),
        chunks: [...(await target.getChunks('earth')), ...(await target.getChunks('note'))],
        embeddings: await target.getChunkEmbeddings('earth'),
        keyword: await target.search(searchRequest(query)),
        vector: await target.search(searchRequest(query, { vector, alpha: 1 })),
        hybrid: await target.search(searchRequest(query, { vector, alpha: 0.5, fusion: 'relativeScore' })),
      });
      const before = await snapshot(store);
      expect(before.chunks).toHaveLength(paragraphs.length + 1);
      expect(before.keyword.length).toBeGreaterThan(0);
      await engine.close();

      const reopened = await stores.openEngine(spaceOf(embedder));
      expect(await snapshot(reopened.store)).toEqual(before);
    });
  });
});

describe('ingestion into the embedded store', () => {
  const stores = useTemporaryStores();

  it('reports identical documents as UNCHANGED and embeds nothing', async () => {
    const embedder = countingEmbedder();
    const { engine, store } = await stores.openEngine(spaceOf(embedder));
    const ingest = ingestService(engine, embedder);
    const documents: DocumentInput[] = [
      { id: 'earth', title: 'Earth', content: paragraphs.join('\n\n'), metadata: { topic: 'geology' } },
      { id: 'note', content: 'Tides follow the moon.' },
    ];
    const first = await ingest.ingest(documents);
    expect(first).toMatchObject({
      created: 2,
      updated: 0,
      unchanged: 0,
      embeddedChunks: paragraphs.length + 1,
    });
    const [storedBefore] = await store.getDocuments(['earth']);
    const callsBefore = embedder.calls.length;

    const second = await ingest.ingest(documents);
    expect(second).toEqual({
      documents: [
        { id: 'earth', status: 'UNCHANGED', chunkCount: paragraphs.length },
        { id: 'note', status: 'UNCHANGED', chunkCount: 1 },
      ],
      created: 0,
      updated: 0,
      unchanged: 2,
      embeddedChunks: 0,
    });
    expect(embedder.calls.length).toBe(callsBefore);
    const [storedAfter] = await store.getDocuments(['earth']);
    expect(storedAfter?.updatedAt).toEqual(storedBefore?.updatedAt);
  });

  it('reports a metadata-only change as UPDATED and reuses the stored vectors', async () => {
    const embedder = countingEmbedder();
    const { engine, store } = await stores.openEngine(spaceOf(embedder));
    const ingest = ingestService(engine, embedder);
    const document = { id: 'earth', content: paragraphs.join('\n\n'), metadata: { topic: 'geology' } };
    await ingest.ingest([document]);
    const [storedBefore] = await store.getDocuments(['earth']);
    const vectorsBefore = await store.getChunkEmbeddings('earth');
    const callsBefore = embedder.calls.length;

    const report = await ingest.ingest([{ ...document, metadata: { topic: 'earth science', year: 2024 } }]);
    expect(report).toMatchObject({ updated: 1, embeddedChunks: 0 });
    expect(report.documents).toEqual([{ id: 'earth', status: 'UPDATED', chunkCount: paragraphs.length }]);
    expect(embedder.calls.length).toBe(callsBefore);
    const [stored] = await store.getDocuments(['earth']);
    expect(stored?.metadata).toEqual({ topic: 'earth science', year: 2024 });
    expect(stored?.createdAt).toEqual(storedBefore?.createdAt);
    expect(stored?.revisionHash).not.toBe(storedBefore?.revisionHash);
    expect(stored?.contentHash).toBe(storedBefore?.contentHash);
    expect(await store.getChunkEmbeddings('earth')).toEqual(vectorsBefore);
    const filtered = await store.search(
      searchRequest('volcanoes', {
        vector: vectorOf('volcanoes'),
        alpha: 0.5,
        filter: [{ field: 'metadata.topic', operator: 'eq', value: 'earth science' }],
      }),
    );
    expect(filtered[0]?.chunk.content).toBe(paragraphs[1]);
  });

  it('reports a title-only change as UPDATED and embeds nothing', async () => {
    const embedder = countingEmbedder();
    const { engine } = await stores.openEngine(spaceOf(embedder));
    const ingest = ingestService(engine, embedder);
    await ingest.ingest([{ id: 'note', title: 'Tides', content: 'Tides follow the moon.' }]);
    const report = await ingest.ingest([
      { id: 'note', title: 'The moon', content: 'Tides follow the moon.' },
    ]);
    expect(report).toMatchObject({ updated: 1, embeddedChunks: 0 });
    expect(embedder.calls).toHaveLength(1);
  });

  it('embeds only the chunks whose text changed', async () => {
    const embedder = countingEmbedder();
    const { engine, store } = await stores.openEngine(spaceOf(embedder));
    const ingest = ingestService(engine, embedder);
    const created = await ingest.ingest([{ id: 'earth', content: paragraphs.join('\n\n') }]);
    // Precondition of this test: each paragraph is one chunk.
    expect(created.documents[0]?.chunkCount).toBe(paragraphs.length);
    expect((await store.getChunks('earth')).map((chunk) => chunk.content)).toEqual(paragraphs);

    const changedParagraph = 'Volcanoes erupt when magma forces its way up through cracks in the crust.';
    const changed = paragraphs.with(1, changedParagraph);
    embedder.calls.length = 0;
    const report = await ingest.ingest([{ id: 'earth', content: changed.join('\n\n') }]);

    expect(report).toMatchObject({ updated: 1, embeddedChunks: 1 });
    expect(embedder.calls).toEqual([[changedParagraph]]);
    expect((await store.getChunks('earth')).map((chunk) => chunk.content)).toEqual(changed);
    const vectors = await store.getChunkEmbeddings('earth');
    expect(vectors.size).toBe(paragraphs.length);
    for (const text of changed) expect(vectors.get(sha256(text))).toEqual(vectorOf(text));
  });

  it('embeds a chunk text shared by several documents once', async () => {
    const embedder = countingEmbedder();
    const { engine, store } = await stores.openEngine(spaceOf(embedder));
    const report = await ingestService(engine, embedder).ingest([
      { id: 'first', content: 'Tides follow the moon.' },
      { id: 'second', content: 'Tides follow the moon.' },
    ]);
    expect(report.embeddedChunks).toBe(1);
    expect(embedder.calls).toEqual([['Tides follow the moon.']]);
    expect((await store.getChunkEmbeddings('second')).size).toBe(1);
  });

  it('embeds in batches no larger than the configured batch size', async () => {
    const embedder = countingEmbedder({ maxEmbeddingsPerCall: 3 });
    const { engine } = await stores.openEngine(spaceOf(embedder));
    const report = await ingestService(engine, embedder, { embeddingBatchSize: 2 }).ingest([
      { id: 'earth', content: paragraphs.join('\n\n') },
    ]);
    expect(report.embeddedChunks).toBe(7);
    expect(embedder.calls.map((call) => call.length)).toEqual([2, 2, 2, 1]);
    expect(embedder.calls.flat()).toEqual(paragraphs);
  });

  it('embeds in batches no larger than the embedder accepts, whatever the batch size', async () => {
    const embedder = countingEmbedder({ maxEmbeddingsPerCall: 3 });
    const { engine } = await stores.openEngine(spaceOf(embedder));
    await ingestService(engine, embedder, { embeddingBatchSize: 64 }).ingest([
      { id: 'earth', content: paragraphs.join('\n\n') },
    ]);
    expect(embedder.calls.map((call) => call.length)).toEqual([3, 3, 1]);
  });

  it('stores nothing and embeds nothing when one document of the batch is invalid', async () => {
    const embedder = countingEmbedder();
    const { engine, store } = await stores.openEngine(spaceOf(embedder));
    const ingest = ingestService(engine, embedder);
    const attempt = ingest.ingest([
      { id: 'good', content: 'Tides follow the moon.' },
      { id: 'bad', content: '   ' },
      { id: 'worse', content: 'Text', metadata: { nested: { no: 1 } } },
    ]);
    await expect(attempt).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: {
        problems: [
          'documents[1]: content is empty',
          expect.stringMatching(/^documents\[2\]: metadata\.nested must be/),
        ],
      },
    });
    expect(embedder.calls).toEqual([]);
    expect(await store.getDocuments(['good', 'bad', 'worse'])).toEqual([null, null, null]);
    expect(await store.listDocuments({ limit: 10, filter: [] })).toEqual([]);
  });

  it('stores nothing when the embedder fails part-way through the batch', async () => {
    const embedder = countingEmbedder({ maxEmbeddingsPerCall: 2, failOnCall: 2 });
    const { engine, store } = await stores.openEngine(spaceOf(embedder));
    await expect(
      ingestService(engine, embedder).ingest([
        { id: 'note', content: 'Tides follow the moon.' },
        { id: 'earth', content: paragraphs.join('\n\n') },
      ]),
    ).rejects.toThrow('the embedding provider is down');
    expect(await store.getDocuments(['note', 'earth'])).toEqual([null, null]);
  });

  it('stores keyword-only documents when there is no embedder', async () => {
    const { engine, store } = await stores.openEngine(null);
    const report = await ingestService(engine, null).ingest([
      { id: 'note', content: 'Tides follow the moon.' },
    ]);
    expect(report).toMatchObject({ created: 1, embeddedChunks: 0 });
    expect((await store.search(searchRequest('moon'))).map((hit) => hit.chunk.id)).toEqual(['note#0']);
    expect((await store.getChunkEmbeddings('note')).size).toBe(0);
  });
});

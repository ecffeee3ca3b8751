/**
 * The store contract: what every StoreEngine must do, run against each store by its own test file.
 * The corpus is four documents with hand-made 4-dimensional vectors, built so that every expected
 * ranking below follows from ranks and min-max normalisation alone, whatever BM25 variant a store
 * scores keywords with: the keyword query matches exactly two documents. Tests that need other
 * documents build them with `documentOf`, whose vectors are the deterministic test embedding.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RagqlError } from '../../src/errors.ts';
import type {
  DocumentRecord,
  DocumentToStore,
  EmbeddingSpace,
  Filter,
  FilterCondition,
  FilterOperator,
  Metadata,
  SearchHit,
  SearchRequest,
  StoreEngine,
  TenantStore,
} from '../../src/ports.ts';
import { defaultTenant } from '../../src/ports.ts';
import { type RankedList, rankedFusion, relativeScoreFusion } from '../../src/ranking/fusion.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import { type StoredDocumentSpec, sha256, storedDocument } from '../support/stored-document.ts';

export const contractSpace: EmbeddingSpace = { provider: 'contract', modelId: 'hand-made', dimensions: 4 };

export interface StoreUnderTest {
  /** A store bound to `contractSpace`, with no documents in any tenant. */
  store: StoreEngine;
  /** Closes the store and removes what it wrote. */
  dispose(): Promise<void>;
}

interface CorpusDocument {
  id: string;
  title: string;
  source: string | null;
  text: string;
  vector: [number, number, number, number];
  metadata: Metadata;
}

/** The query for every search below: its words occur in apple-orchard (twice) and apple-pie only. */
const queryText = 'apple';
const queryVector = Float32Array.from([1, 0, 0, 0]);

const corpus: CorpusDocument[] = [
  {
    id: 'apple-orchard',
    title: 'Orchard',
    source: 'https://example.org/orchard',
    text: 'apple apple orchard',
    vector: [0.6, 0.8, 0, 0],
    metadata: { kind: 'fruit', year: 2020, organic: true, tags: ['red', 'sweet'] },
  },
  {
    id: 'apple-pie',
    title: 'Pie',
    source: null,
    text: 'apple pie recipe',
    vector: [0, 1, 0, 0],
    metadata: { kind: 'dessert', year: 2021, tags: ['sweet'] },
  },
  {
    id: 'orange-grove',
    title: 'Grove',
    source: 'https://example.org/grove',
    text: 'orange grove harvest',
    vector: [1, 0, 0, 0],
    metadata: { kind: 'fruit', year: 2019, organic: false },
  },
  {
    id: 'lemon-tree',
    title: 'Tree',
    source: null,
    text: 'lemon tree shade',
    vector: [0.8, 0.6, 0, 0],
    metadata: { kind: 'tree', year: 2022, tags: ['sour'] },
  },
];

/** Cosine similarity to the query, by hand: each vector is a unit vector. */
const similarity: Record<string, number> = {
  'apple-orchard': 0.6,
  'apple-pie': 0,
  'orange-grove': 1,
  'lemon-tree': 0.8,
};

function toStore(document: CorpusDocument, revision = '1'): DocumentToStore {
  return {
    id: document.id,
    title: document.title,
    source: document.source,
    metadata: document.metadata,
    contentHash: `content-${document.id}-${revision}`,
    revisionHash: `revision-${document.id}-${revision}`,
    chunkCount: 1,
    chunks: [
      {
        id: `${document.id}#0`,
        documentId: document.id,
        index: 0,
        content: document.text,
        startOffset: 0,
        endOffset: document.text.length,
        contentHash: `chunk-${document.id}-${revision}`,
        pages: null,
        sectionPath: [],
        embedding: Float32Array.from(document.vector),
      },
    ],
  };
}

/** A document in the contract's space (unless it says otherwise), one chunk per text. */
function documentOf(spec: Omit<StoredDocumentSpec, 'dimensions'> & { dimensions?: number }): DocumentToStore {
  return storedDocument({ dimensions: contractSpace.dimensions, ...spec });
}

/** The vector `documentOf` gives a chunk of this text, to search for it with. */
function vectorOf(text: string, dimensions = contractSpace.dimensions): Float32Array {
  return Float32Array.from(deterministicEmbedding(text, dimensions));
}

const sorted = (values: string[]) => [...values].sort();

function request(overrides: Partial<SearchRequest> = {}): SearchRequest {
  return {
    text: queryText,
    vector: queryVector,
    alpha: 0.5,
    fusion: 'relativeScore',
    limit: 10,
    filter: [],
    ...overrides,
  };
}

const ids = (hits: { chunk: { documentId: string } }[]) => hits.map((hit) => hit.chunk.documentId);
const documentIds = (documents: (DocumentRecord | null)[]) =>
  documents.map((document) => document?.id ?? null);

export interface StoreTraits {
  /**
   * The store's vectors have the width it was created with (a Pinecone index): it refuses a space
   * of other dimensions even when empty, and the cases that switch dimensions switch models instead.
   */
  fixedDimensions?: boolean;
  /** For a store of fixed dimensions: another, empty, of these dimensions, bound to `space`. */
  openWithSpace?: (space: EmbeddingSpace) => Promise<StoreUnderTest>;
}

export function describeStoreContract(
  name: string,
  open: () => Promise<StoreUnderTest>,
  traits: StoreTraits = {},
): void {
  /** The dimensions a case that moves to another space moves to. */
  const otherDimensions = traits.fixedDimensions ? contractSpace.dimensions : 8;
  describe(`the store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: TenantStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store.forTenant(defaultTenant);
    });
    afterEach(async () => {
      await subject?.dispose();
    });

    const loadCorpus = () => store.upsertDocuments(corpus.map((document) => toStore(document)));

    describe('documents', () => {
      it('stores documents with their chunks and vectors, and reads them back', async () => {
        await loadCorpus();
        const [orchard, missing] = await store.getDocuments(['apple-orchard', 'no-such-document']);
        expect(missing).toBeNull();
        expect(orchard).toMatchObject({
          id: 'apple-orchard',
          title: 'Orchard',
          source: 'https://example.org/orchard',
          metadata: { kind: 'fruit', year: 2020, organic: true, tags: ['red', 'sweet'] },
          revisionHash: 'revision-apple-orchard-1',
          chunkCount: 1,
        });
        expect(orchard?.createdAt).toBeInstanceOf(Date);
        const [chunk] = await store.getChunks('apple-orchard');
        expect(chunk).toMatchObject({
          id: 'apple-orchard#0',
          index: 0,
          content: 'apple apple orchard',
          startOffset: 0,
        });
        const vectors = await store.getChunkEmbeddings('apple-orchard');
        expect(
          [...(vectors.get('chunk-apple-orchard-1') ?? [])].map((value) => Number(value.toFixed(5))),
        ).toEqual([0.6, 0.8, 0, 0]);
      });

      it('reads back every field of the documents and chunks written, a missing title as null', async () => {
        const earth = documentOf({
          id: 'earth',
          texts: ['Volcanoes erupt under pressure.', 'Glaciers carve valleys.', 'Rivers drop sediment.'],
          title: 'Earth',
          source: 'https://example.com/earth',
          metadata: { topic: 'geology', year: 2024, reviewed: true, tags: ['rock', 'ice'], rating: 4.5 },
          locations: [
            { pages: { first: 2, last: 3 }, sectionPath: ['Forces', 'Heat «and» pressure'] },
            { sectionPath: ['Ice'] },
            {},
          ],
        });
        const note = documentOf({ id: 'note', texts: ['Tides follow the moon.'], title: null });
        await store.upsertDocuments([earth, note]);

        const [storedEarth, storedNote] = await store.getDocuments(['earth', 'note']);
        expect(storedEarth).toMatchObject({
          id: 'earth',
          title: 'Earth',
          source: 'https://example.com/earth',
          metadata: { topic: 'geology', year: 2024, reviewed: true, tags: ['rock', 'ice'], rating: 4.5 },
          contentHash: earth.contentHash,
          revisionHash: earth.revisionHash,
          chunkCount: 3,
        });
        expect(storedNote).toMatchObject({ id: 'note', title: null, source: null, chunkCount: 1 });
        expect(await store.getChunks('earth')).toEqual(earth.chunks.map(({ embedding, ...chunk }) => chunk));
        expect(await store.getChunkEmbeddings('earth')).toEqual(
          new Map(earth.chunks.map((chunk) => [chunk.contentHash, chunk.embedding])),
        );
        expect(await store.listDocuments({ limit: 10, filter: [] })).toEqual([storedEarth, storedNote]);
        const [hit] = await store.search({
          text: 'volcanoes',
          alpha: 0,
          fusion: 'ranked',
          limit: 1,
          filter: [],
        });
        expect(hit?.chunk).toEqual(earth.chunks.map(({ embedding, ...chunk }) => chunk)[0]);
      });

      it('lists documents in id order, a page at a time, both ways', async () => {
        await loadCorpus();
        const all = ['apple-orchard', 'apple-pie', 'lemon-tree', 'orange-grove'];
        expect(documentIds(await store.listDocuments({ limit: 10, filter: [] }))).toEqual(all);
        expect(documentIds(await store.listDocuments({ limit: 2, filter: [] }))).toEqual(all.slice(0, 2));
        expect(documentIds(await store.listDocuments({ after: 'apple-pie', limit: 10, filter: [] }))).toEqual(
          all.slice(2),
        );
        expect(
          documentIds(
            await store.listDocuments({ before: 'lemon-tree', limit: 1, descending: true, filter: [] }),
          ),
        ).toEqual(['apple-pie']);
      });

      it('lists ids in byte order whatever their case, between after and before', async () => {
        const mixed = ['b', 'B', 'a', 'A', ' a', 'é', '_'];
        await store.upsertDocuments(mixed.map((id) => documentOf({ id, texts: [`Document ${id}.`] })));
        expect(documentIds(await store.listDocuments({ limit: 10, filter: [] }))).toEqual([
          ' a',
          'A',
          'B',
          '_',
          'a',
          'b',
          'é',
        ]);
        expect(
          documentIds(await store.listDocuments({ after: 'B', before: 'b', limit: 10, filter: [] })),
        ).toEqual(['_', 'a']);
        expect(documentIds(await store.listDocuments({ descending: true, limit: 3, filter: [] }))).toEqual([
          'é',
          'b',
          'a',
        ]);
      });

      it('walks every page of many documents forwards and backwards, with and without a filter', async () => {
        const numbers = Array.from({ length: 60 }, (_, index) => (index * 37) % 60);
        await store.upsertDocuments(
          numbers.map((number) =>
            documentOf({
              id: `doc-${String(number).padStart(2, '0')}`,
              texts: ['Text.'],
              metadata: { even: number % 2 === 0 },
            }),
          ),
        );
        const walk = async (filter: Filter, descending: boolean) => {
          const seen: string[] = [];
          for (;;) {
            const last = seen.at(-1);
            const bound = last === undefined ? {} : descending ? { before: last } : { after: last };
            const page = await store.listDocuments({ ...bound, descending, limit: 7, filter });
            if (page.length === 0) return seen;
            seen.push(...page.map((document) => document.id));
          }
        };
        const expected = numbers.map((number) => `doc-${String(number).padStart(2, '0')}`).sort();
        const even: Filter = [{ field: 'metadata.even', operator: 'eq', value: true }];
        const expectedEven = expected.filter((id) => Number(id.slice(4)) % 2 === 0);
        expect(await walk([], false)).toEqual(expected);
        expect(await walk([], true)).toEqual([...expected].reverse());
        expect(await walk(even, false)).toEqual(expectedEven);
        expect(await walk(even, true)).toEqual([...expectedEven].reverse());
      });

      it('stores the same revision twice as once', async () => {
        await loadCorpus();
        await loadCorpus();
        expect(await store.listDocuments({ limit: 10, filter: [] })).toHaveLength(corpus.length);
        expect(ids(await store.search(request({ alpha: 1 })))).toEqual([
          'orange-grove',
          'lemon-tree',
          'apple-orchard',
          'apple-pie',
        ]);
      });

      it('replaces a document whole: no chunk of the old revision remains, and it keeps when it was created', async () => {
        await store.upsertDocuments([
          documentOf({ id: 'notes', texts: ['apple one', 'apple two', 'apple three'] }),
        ]);
        const [first] = await store.getDocuments(['notes']);
        // So that the replacement's time is certainly later than the first write's.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const replacement = documentOf({ id: 'notes', texts: ['pear one'], revision: '2' });
        await store.upsertDocuments([replacement]);
        expect((await store.getChunks('notes')).map((chunk) => chunk.content)).toEqual(['pear one']);
        expect([...(await store.getChunkEmbeddings('notes')).keys()]).toEqual([sha256('pear one')]);
        expect(ids(await store.search(request({ alpha: 0 })))).toEqual([]);
        expect(await store.search(request({ alpha: 1 }))).toHaveLength(1);
        const [second] = await store.getDocuments(['notes']);
        expect(second).toMatchObject({
          title: 'notes 2',
          metadata: { revision: '2' },
          chunkCount: 1,
          revisionHash: replacement.revisionHash,
        });
        expect(second?.createdAt).toEqual(first?.createdAt);
        expect(second?.updatedAt.getTime()).toBeGreaterThan(first?.updatedAt.getTime() ?? Number.NaN);
      });

      it('keeps the times a copy gives, over a stored document and a new one alike', async () => {
        const createdAt = new Date('2024-03-01T10:00:00.000Z');
        const updatedAt = new Date('2025-06-15T08:30:00.000Z');
        await store.upsertDocuments([documentOf({ id: 'copied-over', texts: ['apple one'] })]);
        await store.upsertDocuments([
          { ...documentOf({ id: 'copied-over', texts: ['apple one'], revision: '2' }), createdAt, updatedAt },
          { ...documentOf({ id: 'copied-new', texts: ['pear one'] }), createdAt, updatedAt },
        ]);
        const stored = await store.getDocuments(['copied-over', 'copied-new']);
        for (const document of stored) {
          expect(document?.createdAt.toISOString()).toBe(createdAt.toISOString());
          expect(document?.updatedAt.toISOString()).toBe(updatedAt.toISOString());
        }
      });

      it('lets readers see the old revision or the new one while a document is replaced, never a mix', async () => {
        const oldTexts = Array.from(
          { length: 300 },
          (_, index) => `Alpha chunk number ${index} of the old revision.`,
        );
        const newTexts = Array.from(
          { length: 250 },
          (_, index) => `Omega part number ${index} of the new revision.`,
        );
        await store.upsertDocuments([documentOf({ id: 'big', texts: oldTexts, revision: 'old' })]);

        const kind = (contents: string[]) => {
          if (contents.length === oldTexts.length && contents.every((text) => text.startsWith('Alpha')))
            return 'old';
          if (contents.length === newTexts.length && contents.every((text) => text.startsWith('Omega')))
            return 'new';
          return `a mix of ${contents.length}`;
        };
        const seen: string[] = [];
        let writing = true;
        const reader = (async () => {
          while (writing) {
            seen.push(`chunks: ${kind((await store.getChunks('big')).map((chunk) => chunk.content))}`);
            const hits = await store.search(request({ text: 'alpha omega', alpha: 0, limit: 400 }));
            seen.push(`search: ${kind(hits.map((hit) => hit.chunk.content))}`);
            // A store that reads synchronously (SQLite) would otherwise never let the write finish.
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        await store.upsertDocuments([documentOf({ id: 'big', texts: newTexts, revision: 'new' })]);
        writing = false;
        await reader;

        expect(seen.length).toBeGreaterThan(0);
        expect(seen.filter((observation) => !/: (old|new)$/.test(observation))).toEqual([]);
        expect(kind((await store.getChunks('big')).map((chunk) => chunk.content))).toBe('new');
      });

      it('stores nothing of a batch that fails, and keeps what was stored before', async () => {
        await store.upsertDocuments([documentOf({ id: 'notes', texts: ['apple one'] })]);
        const broken = documentOf({ id: 'broken', texts: ['apple broken', 'apple mended'] });
        const [, brokenChunk] = broken.chunks;
        if (brokenChunk) brokenChunk.embedding = Float32Array.from([1, 0, 0]);
        await expect(
          store.upsertDocuments([
            documentOf({ id: 'notes', texts: ['pear two', 'pear three'], revision: '2' }),
            broken,
          ]),
        ).rejects.toThrow('Chunk broken#1 has 3 dimensions; the store expects 4');
        expect(documentIds(await store.getDocuments(['notes', 'broken']))).toEqual(['notes', null]);
        expect((await store.getChunks('notes')).map((chunk) => chunk.content)).toEqual(['apple one']);
        expect(ids(await store.search(request({ alpha: 0 })))).toEqual(['notes']);
      });

      it('refuses a chunk without a vector, storing nothing of its batch', async () => {
        const unembedded = documentOf({ id: 'lakes', texts: ['apple lakes'], dimensions: 0 });
        await expect(
          store.upsertDocuments([documentOf({ id: 'notes', texts: ['apple one'] }), unembedded]),
        ).rejects.toThrow('Chunk lakes#0 has no embedding');
        expect(await store.getDocuments(['notes', 'lakes'])).toEqual([null, null]);
      });

      it('deletes a document with its chunks, once', async () => {
        await loadCorpus();
        expect(await store.deleteDocument('apple-orchard')).toBe(true);
        expect(await store.deleteDocument('apple-orchard')).toBe(false);
        expect(await store.deleteDocument('never-stored')).toBe(false);
        expect(await store.getDocuments(['apple-orchard'])).toEqual([null]);
        expect(await store.getChunks('apple-orchard')).toEqual([]);
        expect((await store.getChunkEmbeddings('apple-orchard')).size).toBe(0);
        expect(ids(await store.search(request({ alpha: 0 })))).toEqual(['apple-pie']);
        expect(ids(await store.search(request({ alpha: 1 })))).not.toContain('apple-orchard');
      });

      it("leaves no keyword or vector entry of a deleted document's chunks to take a hit's place", async () => {
        await loadCorpus();
        // The first by keywords and the nearest to the query vector.
        await store.deleteDocument('apple-orchard');
        await store.deleteDocument('orange-grove');
        expect(ids(await store.search(request({ alpha: 0, limit: 1 })))).toEqual(['apple-pie']);
        expect(ids(await store.search(request({ alpha: 1, limit: 1 })))).toEqual(['lemon-tree']);
      });
    });

    describe('search', () => {
      beforeEach(loadCorpus);

      it('ranks by keywords alone at alpha 0, and reports their scores', async () => {
        const hits = await store.search(request({ alpha: 0 }));
        expect(ids(hits)).toEqual(['apple-orchard', 'apple-pie']);
        const [orchard, pie] = hits;
        expect(pie?.keywordScore).toBeGreaterThan(0);
        expect(orchard?.keywordScore).toBeGreaterThan(pie?.keywordScore ?? Number.POSITIVE_INFINITY);
        for (const hit of hits) {
          expect(hit.vectorScore).toBeNull();
          expect(hit.score).toBe(hit.keywordScore);
        }
      });

      it('ranks by cosine similarity alone at alpha 1, and reports it', async () => {
        const hits = await store.search(request({ alpha: 1 }));
        expect(ids(hits)).toEqual(['orange-grove', 'lemon-tree', 'apple-orchard', 'apple-pie']);
        for (const hit of hits) {
          expect(hit.vectorScore).toBeCloseTo(similarity[hit.chunk.documentId] ?? Number.NaN, 4);
          expect(hit.keywordScore).toBeNull();
          expect(hit.score).toBe(hit.vectorScore);
        }
      });

      it("reports both retrievers' scores for each fused hit, null where one did not find it", async () => {
        const keywordScores = new Map(
          (await store.search(request({ alpha: 0 }))).map((hit) => [hit.chunk.documentId, hit.keywordScore]),
        );
        const hits = await store.search(request({ alpha: 0.5 }));
        for (const hit of hits) {
          const id = hit.chunk.documentId;
          expect(hit.keywordScore).toBe(keywordScores.get(id) ?? null);
          expect(hit.vectorScore).toBeCloseTo(similarity[id] ?? Number.NaN, 4);
        }
      });

      it("finds a chunk by a word of its document's title alone", async () => {
        await store.upsertDocuments([documentOf({ id: 'notebook', texts: ['pear one'] })]);
        expect(ids(await store.search(request({ text: 'notebook', alpha: 0 })))).toEqual(['notebook']);
      });

      it('finds a word by its stem', async () => {
        expect(ids(await store.search(request({ text: 'orchards', alpha: 0 })))).toEqual(['apple-orchard']);
        expect(ids(await store.search(request({ text: 'recipes', alpha: 0 })))).toEqual(['apple-pie']);
      });

      it('takes quotes and operators of query syntaxes (NEAR, OR, *, -) as plain words', async () => {
        const hits = await store.search(request({ text: '"orchard" NEAR OR grove* -pie', alpha: 0 }));
        expect(sorted(ids(hits))).toEqual(['apple-orchard', 'apple-pie', 'orange-grove']);
      });

      it('finds nothing by keywords, without an error, for a query of stopwords or punctuation', async () => {
        expect(await store.search(request({ text: 'the and of it', alpha: 0 }))).toEqual([]);
        expect(await store.search(request({ text: '?!', alpha: 0 }))).toEqual([]);
        const hybrid = await store.search(request({ text: 'the and of it', alpha: 0.5 }));
        expect(ids(hybrid)).toEqual(['orange-grove', 'lemon-tree', 'apple-orchard', 'apple-pie']);
        expect(hybrid.every((hit) => hit.keywordScore === null)).toBe(true);
      });

      // relativeScore: keyword scores normalise to orchard 1, pie 0; similarities to themselves.
      // At alpha 0.5: orchard .5·.6 + .5·1 = .8, grove .5, lemon .4, pie 0.
      it('fuses by relative score at alpha 0.5', async () => {
        const hits = await store.search(request({ alpha: 0.5, fusion: 'relativeScore' }));
        expect(ids(hits)).toEqual(['apple-orchard', 'orange-grove', 'lemon-tree', 'apple-pie']);
        expect(hits.map((hit) => Number(hit.score.toFixed(3)))).toEqual([0.8, 0.5, 0.4, 0]);
      });

      // At alpha 0.75: grove .75, orchard .75·.6 + .25 = .7, lemon .6, pie 0.
      it('weighs vectors more as alpha grows', async () => {
        const hits = await store.search(request({ alpha: 0.75, fusion: 'relativeScore' }));
        expect(ids(hits)).toEqual(['orange-grove', 'apple-orchard', 'lemon-tree', 'apple-pie']);
      });

      // ranked: Σ weight / (60 + rank), ranks from 0. Orchard .5/62 + .5/60, pie .5/63 + .5/61,
      // grove .5/60, lemon .5/61: being found by both retrievers outweighs any single first place.
      it('fuses by rank at alpha 0.5', async () => {
        const hits = await store.search(request({ alpha: 0.5, fusion: 'ranked' }));
        expect(ids(hits)).toEqual(['apple-orchard', 'apple-pie', 'orange-grove', 'lemon-tree']);
        expect(hits[0]?.score).toBeCloseTo(0.5 / 62 + 0.5 / 60, 5);
      });

      for (const [fusion, fuse, alpha] of [
        ['ranked', rankedFusion, 0.3],
        ['relativeScore', relativeScoreFusion, 0.7],
      ] as const) {
        it(`fuses with ${fusion} fusion as src/ranking/fusion.ts does, at alpha ${alpha}`, async () => {
          const keyword = await store.search(request({ alpha: 0, limit: 100 }));
          const vector = await store.search(request({ alpha: 1, limit: 100 }));
          const key = (hit: SearchHit) =>
            corpus.findIndex((document) => document.id === hit.chunk.documentId);
          const lists: RankedList[] = [
            { weight: 1 - alpha, results: keyword.map((hit) => ({ key: key(hit), score: hit.score })) },
            { weight: alpha, results: vector.map((hit) => ({ key: key(hit), score: hit.score })) },
          ];
          const expected = fuse(lists).map((result) => ({ id: corpus[result.key]?.id, score: result.score }));
          const hits = await store.search(request({ alpha, fusion, limit: 100 }));
          expect(ids(hits)).toEqual(expected.map((entry) => entry.id));
          hits.forEach((hit, position) => {
            expect(hit.score).toBeCloseTo(expected[position]?.score ?? Number.NaN, 6);
          });
        });
      }

      it('returns at most `limit` hits', async () => {
        expect(ids(await store.search(request({ alpha: 1, limit: 2 })))).toEqual([
          'orange-grove',
          'lemon-tree',
        ]);
      });

      it('searches keywords only when no vector is given', async () => {
        expect(ids(await store.search(request({ vector: undefined, alpha: 0.5 })))).toEqual([
          'apple-orchard',
          'apple-pie',
        ]);
      });

      it('applies a filter to every retriever', async () => {
        const filter: Filter = [{ field: 'metadata.kind', operator: 'eq', value: 'fruit' }];
        expect(ids(await store.search(request({ alpha: 0, filter })))).toEqual(['apple-orchard']);
        expect(ids(await store.search(request({ alpha: 1, filter })))).toEqual([
          'orange-grove',
          'apple-orchard',
        ]);
        expect(ids(await store.search(request({ alpha: 0.5, filter })))).toEqual([
          'apple-orchard',
          'orange-grove',
        ]);
      });
    });

    describe('hybrid candidates', () => {
      it('fuses the best max(limit, 100) hits of each retriever', async () => {
        // Vectors of more dimensions than the contract's, so that 300 texts of 12 words rank apart.
        const dimensions = 32;
        const space = { ...contractSpace, dimensions };
        if (traits.openWithSpace) {
          await subject.dispose();
          subject = await traits.openWithSpace(space);
          store = subject.store.forTenant(defaultTenant);
        } else {
          await subject.store.bindEmbeddingSpace(space);
        }
        const words = [
          'river',
          'delta',
          'moon',
          'tide',
          'rock',
          'ice',
          'wind',
          'sun',
          'rain',
          'sea',
          'salt',
          'sand',
        ];
        let seed = 7;
        const nextWord = () => {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          return words[Math.floor((seed / 2147483648) * words.length)];
        };
        const texts = Array.from({ length: 300 }, () => Array.from({ length: 6 }, nextWord).join(' '));
        await store.upsertDocuments(
          texts.map((text, index) => documentOf({ id: `d${index}`, texts: [text], dimensions })),
        );
        const vector = vectorOf('sea sun ice', dimensions);
        const text = 'river moon salt';
        const lists = async (limit: number, fusion: SearchRequest['fusion']) => {
          const candidates = { text, vector, fusion, limit: Math.max(limit, 100) };
          const keyword = await store.search(request({ ...candidates, alpha: 0 }));
          const nearest = await store.search(request({ ...candidates, alpha: 1 }));
          const results = (hits: SearchHit[]) =>
            hits.map((hit) => ({ key: Number(hit.chunk.documentId.slice(1)), score: hit.score }));
          return [
            { weight: 0.5, results: results(keyword) },
            { weight: 0.5, results: results(nearest) },
          ];
        };
        for (const limit of [3, 150]) {
          for (const [fusion, fuse] of [
            ['ranked', rankedFusion],
            ['relativeScore', relativeScoreFusion],
          ] as const) {
            const expected = fuse(await lists(limit, fusion)).slice(0, limit);
            const hits = await store.search(request({ text, vector, alpha: 0.5, fusion, limit }));
            expect(hits).toHaveLength(limit);
            hits.forEach((hit, position) => {
              expect(hit.score, `${fusion} ${limit} #${position}`).toBeCloseTo(
                expected[position]?.score ?? Number.NaN,
                6,
              );
            });
          }
        }
      });
    });

    describe('filters', () => {
      beforeEach(loadCorpus);

      const cases: [string, Filter, string[]][] = [
        [
          'eq on a string',
          [{ field: 'metadata.kind', operator: 'eq', value: 'fruit' }],
          ['apple-orchard', 'orange-grove'],
        ],
        ['eq on a number', [{ field: 'metadata.year', operator: 'eq', value: 2021 }], ['apple-pie']],
        ['eq on a boolean', [{ field: 'metadata.organic', operator: 'eq', value: false }], ['orange-grove']],
        [
          'eq on an array element',
          [{ field: 'metadata.tags', operator: 'eq', value: 'sweet' }],
          ['apple-orchard', 'apple-pie'],
        ],
        ['eq on the title', [{ field: 'title', operator: 'eq', value: 'Tree' }], ['lemon-tree']],
        [
          'ne on a string',
          [{ field: 'metadata.kind', operator: 'ne', value: 'fruit' }],
          ['apple-pie', 'lemon-tree'],
        ],
        [
          'ne on an array: no element equals',
          [{ field: 'metadata.tags', operator: 'ne', value: 'sweet' }],
          ['lemon-tree', 'orange-grove'],
        ],
        [
          'in',
          [{ field: 'metadata.kind', operator: 'in', value: ['tree', 'dessert'] }],
          ['apple-pie', 'lemon-tree'],
        ],
        [
          'in on an array',
          [{ field: 'metadata.tags', operator: 'in', value: ['red', 'sour'] }],
          ['apple-orchard', 'lemon-tree'],
        ],
        ['gt', [{ field: 'metadata.year', operator: 'gt', value: 2020 }], ['apple-pie', 'lemon-tree']],
        [
          'gte',
          [{ field: 'metadata.year', operator: 'gte', value: 2020 }],
          ['apple-orchard', 'apple-pie', 'lemon-tree'],
        ],
        ['lt', [{ field: 'metadata.year', operator: 'lt', value: 2020 }], ['orange-grove']],
        [
          'lte',
          [{ field: 'metadata.year', operator: 'lte', value: 2020 }],
          ['apple-orchard', 'orange-grove'],
        ],
        [
          'exists',
          [{ field: 'metadata.organic', operator: 'exists', value: true }],
          ['apple-orchard', 'orange-grove'],
        ],
        ['does not exist', [{ field: 'metadata.tags', operator: 'exists', value: false }], ['orange-grove']],
        [
          'exists on the source',
          [{ field: 'source', operator: 'exists', value: true }],
          ['apple-orchard', 'orange-grove'],
        ],
        [
          'several conditions, all holding',
          [
            { field: 'metadata.kind', operator: 'eq', value: 'fruit' },
            { field: 'metadata.year', operator: 'gte', value: 2020 },
          ],
          ['apple-orchard'],
        ],
        [
          'a typed comparison: the string "2021" is not the number',
          [{ field: 'metadata.year', operator: 'eq', value: '2021' }],
          [],
        ],
      ];

      it.each(cases)('%s', async (_name, filter, expected) => {
        expect(documentIds(await store.listDocuments({ limit: 10, filter }))).toEqual(expected);
      });
    });

    describe('filters, on listings and on every retriever', () => {
      // Each filter with the documents it must match; every document's text has the word "common".
      const filterCorpus: Omit<StoredDocumentSpec, 'dimensions'>[] = [
        {
          id: 'alpha',
          texts: ['A common report about alpha.'],
          title: 'Alpha report',
          source: 'https://example.com/a',
          metadata: {
            topic: 'energy',
            year: 2019,
            score: 4.5,
            draft: false,
            tags: ['wind', 'grid'],
            code: '5',
          },
        },
        {
          id: 'beta',
          texts: ['Common notes about beta.'],
          title: 'beta notes',
          source: null,
          metadata: {
            topic: 'Energy',
            year: 2021,
            score: 3,
            draft: true,
            tags: ['solar'],
            ratings: [1, 2.5],
          },
        },
        {
          id: 'gamma',
          texts: ['A common recipe called gamma.'],
          title: ' spaced title ',
          source: 'notebook',
          metadata: { topic: 'cooking', year: 2015, tags: [], code: 5 },
        },
        {
          id: 'delta',
          texts: ['Common delta of a river.'],
          title: null,
          source: 'https://example.com/d',
          metadata: { topic: 'cooking', year: '2020', flags: [true, false] },
        },
        {
          id: 'epsilon',
          texts: ['A common epsilon.'],
          title: 'spaced title',
          source: 'https://example.com/e',
          metadata: { Topic: 'capital key', tags: ['grid', 'solar'] },
        },
        { id: 'zeta', texts: ['Common zeta.'], title: '', source: '', metadata: {} },
      ];
      const all = filterCorpus.map((document) => document.id).sort();
      const allBut = (...excluded: string[]) => all.filter((id) => !excluded.includes(id));
      /** A filter of one condition. */
      const where = (field: string, operator: FilterOperator, value: unknown): Filter => [
        { field, operator, value } as FilterCondition,
      ];

      const cases: [string, Filter, string[]][] = [
        ['title eq is exact', where('title', 'eq', 'Alpha report'), ['alpha']],
        ['title eq keeps surrounding spaces', where('title', 'eq', ' spaced title '), ['gamma']],
        ['title eq without the spaces', where('title', 'eq', 'spaced title'), ['epsilon']],
        ['title eq the empty string', where('title', 'eq', ''), ['zeta']],
        ['title ne passes a missing title', where('title', 'ne', 'Alpha report'), allBut('alpha')],
        [
          'title in takes its strings',
          where('title', 'in', ['beta notes', 'spaced title', 5]),
          ['beta', 'epsilon'],
        ],
        ['title in without a string', where('title', 'in', [5, true]), []],
        ['title gt compares bytes', where('title', 'gt', 'a'), ['beta', 'epsilon']],
        ['title lt compares bytes', where('title', 'lt', 'B'), ['alpha', 'gamma', 'zeta']],
        ['title eq a number', where('title', 'eq', 5), []],
        ['title ne a number', where('title', 'ne', 5), all],
        ['title exists', where('title', 'exists', true), allBut('delta')],
        ['title does not exist', where('title', 'exists', false), ['delta']],
        ['source does not exist', where('source', 'exists', false), ['beta']],
        ['source eq the empty string', where('source', 'eq', ''), ['zeta']],
        ['source gte', where('source', 'gte', 'https://example.com/b'), ['delta', 'epsilon', 'gamma']],
        ['source lte', where('source', 'lte', 'https://example.com/a'), ['alpha', 'zeta']],
        ['metadata eq is case-sensitive', where('metadata.topic', 'eq', 'energy'), ['alpha']],
        ['metadata in', where('metadata.topic', 'in', ['energy', 'Energy']), ['alpha', 'beta']],
        [
          'metadata ne passes a missing key',
          where('metadata.topic', 'ne', 'cooking'),
          ['alpha', 'beta', 'epsilon', 'zeta'],
        ],
        ['metadata keys differing in case', where('metadata.Topic', 'eq', 'capital key'), ['epsilon']],
        ['metadata exists', where('metadata.Topic', 'exists', true), ['epsilon']],
        ['metadata does not exist', where('metadata.topic', 'exists', false), ['epsilon', 'zeta']],
        ['numbers gte skip strings', where('metadata.year', 'gte', 2019), ['alpha', 'beta']],
        ['strings gt skip numbers', where('metadata.year', 'gt', '2019'), ['delta']],
        ['a number never equals a string', where('metadata.year', 'eq', 2020), []],
        ['a string equals a string', where('metadata.year', 'eq', '2020'), ['delta']],
        ['numbers lt', where('metadata.year', 'lt', 2016), ['gamma']],
        ['numbers lte', where('metadata.year', 'lte', 2019), ['alpha', 'gamma']],
        ['fractions gt', where('metadata.score', 'gt', 3.5), ['alpha']],
        ['integers eq', where('metadata.score', 'eq', 3), ['beta']],
        ['numbers in, integers and fractions', where('metadata.score', 'in', [3, 4.5]), ['alpha', 'beta']],
        ['number arrays: any element gt', where('metadata.ratings', 'gt', 2), ['beta']],
        ['number arrays: no element lt', where('metadata.ratings', 'lt', 1), []],
        ['number arrays: ne means none equals', where('metadata.ratings', 'ne', 1), allBut('beta')],
        ['booleans eq true', where('metadata.draft', 'eq', true), ['beta']],
        ['booleans eq false', where('metadata.draft', 'eq', false), ['alpha']],
        ['booleans ne', where('metadata.draft', 'ne', true), allBut('beta')],
        ['booleans in', where('metadata.draft', 'in', [true, false]), ['alpha', 'beta']],
        ['boolean arrays: any element', where('metadata.flags', 'eq', false), ['delta']],
        ['boolean arrays: ne', where('metadata.flags', 'ne', true), allBut('delta')],
        ['string arrays: any element', where('metadata.tags', 'eq', 'grid'), ['alpha', 'epsilon']],
        [
          'string arrays: ne means none equals',
          where('metadata.tags', 'ne', 'grid'),
          ['beta', 'delta', 'gamma', 'zeta'],
        ],
        ['string arrays: in', where('metadata.tags', 'in', ['solar', 'wind']), ['alpha', 'beta', 'epsilon']],
        ['string arrays: gt', where('metadata.tags', 'gt', 'v'), ['alpha']],
        [
          'an empty array exists',
          where('metadata.tags', 'exists', true),
          ['alpha', 'beta', 'epsilon', 'gamma'],
        ],
        ['mixed types: the string', where('metadata.code', 'eq', '5'), ['alpha']],
        ['mixed types: the number', where('metadata.code', 'eq', 5), ['gamma']],
        ['mixed types: in both', where('metadata.code', 'in', ['5', 5]), ['alpha', 'gamma']],
        ['mixed types: ne the number', where('metadata.code', 'ne', 5), allBut('gamma')],
        ['a key no document has: eq', where('metadata.never', 'eq', 'x'), []],
        ['a key no document has: ne', where('metadata.never', 'ne', 'x'), all],
        ['a key no document has: gt', where('metadata.never', 'gt', 1), []],
        ['a key no document has: in', where('metadata.never', 'in', [1, 'a', true]), []],
        ['a key no document has: exists false', where('metadata.never', 'exists', false), all],
        [
          'several conditions, all of which must hold',
          [
            { field: 'metadata.topic', operator: 'in', value: ['energy', 'cooking'] },
            { field: 'metadata.year', operator: 'gte', value: 2015 },
            { field: 'source', operator: 'exists', value: true },
          ],
          ['alpha', 'gamma'],
        ],
      ];

      // One test for all the cases: a store of its own for each would make the Weaviate run minutes long.
      it(`match the same documents in listings, keyword, vector and hybrid search (${cases.length} cases)`, async () => {
        await store.upsertDocuments(filterCorpus.map(documentOf));
        for (const [name, filter, expected] of cases) {
          expect(documentIds(await store.listDocuments({ limit: 100, filter })), name).toEqual(expected);
          const search = { text: 'common', vector: vectorOf('common'), limit: 100, filter };
          for (const alpha of [0, 1, 0.5]) {
            const hits = await store.search(request({ ...search, alpha }));
            expect(sorted(ids(hits)), `${name}, alpha ${alpha}`).toEqual(expected);
          }
        }
      });
    });

    describe('tenants', () => {
      const acme = () => subject.store.forTenant('acme');
      const globex = () => subject.store.forTenant('globex');

      it("never shows, searches or deletes another tenant's documents", async () => {
        await acme().upsertDocuments([toStore(corpus[0] as CorpusDocument)]);
        await globex().upsertDocuments([toStore(corpus[1] as CorpusDocument)]);

        expect(documentIds(await acme().getDocuments(['apple-orchard', 'apple-pie']))).toEqual([
          'apple-orchard',
          null,
        ]);
        expect(documentIds(await globex().listDocuments({ limit: 10, filter: [] }))).toEqual(['apple-pie']);
        expect(ids(await acme().search(request({ alpha: 0.5 })))).toEqual(['apple-orchard']);
        expect(ids(await globex().search(request({ alpha: 1 })))).toEqual(['apple-pie']);
        expect(await globex().getChunks('apple-orchard')).toEqual([]);
        expect(await globex().getChunkEmbeddings('apple-orchard')).toEqual(new Map());

        expect(await globex().deleteDocument('apple-orchard')).toBe(false);
        expect(documentIds(await acme().getDocuments(['apple-orchard']))).toEqual(['apple-orchard']);
        expect(await store.listDocuments({ limit: 10, filter: [] })).toEqual([]);
      });

      it('keeps the same document id apart in two tenants', async () => {
        await acme().upsertDocuments([documentOf({ id: 'notes', texts: ['apple for acme'] })]);
        await globex().upsertDocuments([documentOf({ id: 'notes', texts: ['apple for globex'] })]);
        expect((await acme().getChunks('notes')).map((chunk) => chunk.content)).toEqual(['apple for acme']);
        await acme().deleteDocument('notes');
        expect((await globex().getChunks('notes')).map((chunk) => chunk.content)).toEqual([
          'apple for globex',
        ]);
      });

      it('keeps names that differ only in case apart, and takes Windows device names', async () => {
        const names = ['Acme', 'ACME', 'acme', 'CON', 'con', 'nul', 'COM1'];
        for (const name of names) {
          await subject.store
            .forTenant(name)
            .upsertDocuments([documentOf({ id: 'notes', texts: [`apple for ${name}`] })]);
        }
        for (const name of names) {
          expect(
            (await subject.store.forTenant(name).getChunks('notes')).map((chunk) => chunk.content),
          ).toEqual([`apple for ${name}`]);
        }
      });

      it('reads a tenant never written to as empty', async () => {
        const fresh = subject.store.forTenant('never-written');
        expect(await fresh.listDocuments({ limit: 10, filter: [] })).toEqual([]);
        expect(await fresh.getDocuments(['apple-orchard'])).toEqual([null]);
        expect(await fresh.getChunks('apple-orchard')).toEqual([]);
        expect((await fresh.getChunkEmbeddings('apple-orchard')).size).toBe(0);
        expect(await fresh.search(request({ alpha: 0 }))).toEqual([]);
        expect(await fresh.search(request())).toEqual([]);
        expect(await fresh.deleteDocument('apple-orchard')).toBe(false);
      });

      it('takes tenant names of 1 to 64 letters, digits, - and _, and refuses others', () => {
        expect(() => subject.store.forTenant('../escape')).toThrow(RagqlError);
        expect(() => subject.store.forTenant('a b')).toThrow(RagqlError);
        expect(() => subject.store.forTenant('')).toThrow(/1 to 64/);
        expect(() => subject.store.forTenant('x'.repeat(65))).toThrow(/1 to 64/);
        expect(() => subject.store.forTenant('Team_1-a')).not.toThrow();
        expect(() => subject.store.forTenant('x'.repeat(64))).not.toThrow();
      });
    });

    describe('embedding space', () => {
      const otherModel: EmbeddingSpace = { ...contractSpace, modelId: 'other-model' };

      it('refuses another model once chunks are stored, naming both and the setting to change', async () => {
        await loadCorpus();
        const error: unknown = await subject.store.bindEmbeddingSpace(otherModel).catch((caught) => caught);
        expect(error).toBeInstanceOf(RagqlError);
        expect(error).toMatchObject({ code: 'EMBEDDING_SPACE_MISMATCH' });
        const { message } = error as RagqlError;
        expect(message).toContain('contract hand-made (4 dimensions)');
        expect(message).toContain('contract other-model (4 dimensions)');
        expect(message).toContain('RAGQL_EMBEDDING_MODEL');
      });

      it('refuses other dimensions of the same model, and running without an embedder', async () => {
        await loadCorpus();
        const wider = subject.store.bindEmbeddingSpace({ ...contractSpace, dimensions: 64 });
        await expect(wider).rejects.toMatchObject({
          code: 'EMBEDDING_SPACE_MISMATCH',
          message: expect.stringContaining('(64 dimensions)'),
        });
        await expect(subject.store.bindEmbeddingSpace(null)).rejects.toMatchObject({
          code: 'EMBEDDING_SPACE_MISMATCH',
          message: expect.stringContaining('no embedder (keyword-only)'),
        });
      });

      it('lets an empty store take a new space, and searches its vectors', async () => {
        await subject.store.bindEmbeddingSpace(otherModel);
        await subject.store.bindEmbeddingSpace({
          ...otherModel,
          modelId: 'third',
          dimensions: otherDimensions,
        });
        const text = 'Glaciers carve valleys.';
        await store.upsertDocuments([documentOf({ id: 'ice', texts: [text], dimensions: otherDimensions })]);
        const hits = await store.search(request({ text, vector: vectorOf(text, otherDimensions), alpha: 1 }));
        expect(hits.map((hit) => hit.chunk.id)).toEqual(['ice#0']);
      });

      it(`lets a store whose documents were all deleted take ${traits.fixedDimensions ? 'another model' : 'a space of other dimensions'}`, async () => {
        await store.upsertDocuments([documentOf({ id: 'moon', texts: ['The moon pulls the tides.'] })]);
        expect(await store.deleteDocument('moon')).toBe(true);
        await subject.store.bindEmbeddingSpace({ ...otherModel, dimensions: otherDimensions });
        const text = 'Glaciers carve valleys.';
        await store.upsertDocuments([documentOf({ id: 'ice', texts: [text], dimensions: otherDimensions })]);
        const hits = await store.search(request({ text, vector: vectorOf(text, otherDimensions), alpha: 1 }));
        expect(hits.map((hit) => hit.chunk.id)).toEqual(['ice#0']);
      });

      if (traits.fixedDimensions) {
        it('refuses, even empty, a space of dimensions other than its own, naming both', async () => {
          const wider = subject.store.bindEmbeddingSpace({ ...otherModel, dimensions: 8 });
          await expect(wider).rejects.toMatchObject({
            code: 'EMBEDDING_SPACE_MISMATCH',
            message: expect.stringMatching(/4 dimensions.*\(8 dimensions\)/),
          });
        });
      }

      it('stores keyword-only documents when bound to no embedding space', async () => {
        await subject.store.bindEmbeddingSpace(null);
        await store.upsertDocuments([
          documentOf({ id: 'note', texts: ['Tides follow the moon.'], dimensions: 0 }),
        ]);
        const text = 'moon';
        const hits = await store.search(request({ text, vector: vectorOf(text), alpha: 0.5 }));
        expect(hits.map((hit) => hit.chunk.id)).toEqual(['note#0']);
        expect(hits[0]?.vectorScore).toBeNull();
        expect((await store.getChunkEmbeddings('note')).size).toBe(0);
      });

      it('reports itself ready', async () => {
        expect(await subject.store.readiness()).toEqual({ ready: true });
      });
    });
  });
}

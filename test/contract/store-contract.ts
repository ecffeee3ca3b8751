/**
 * The store contract: what every StoreEngine must do, run against each store by its own test file.
 * The corpus is four documents with hand-made 4-dimensional vectors, built so that every expected
 * ranking below follows from ranks and min-max normalisation alone, whatever BM25 variant a store
 * scores keywords with: the keyword query matches exactly two documents.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RagqlError } from '../../src/errors.ts';
import type {
  DocumentRecord,
  DocumentToStore,
  EmbeddingSpace,
  Filter,
  Metadata,
  SearchRequest,
  StoreEngine,
  TenantStore,
} from '../../src/ports.ts';
import { defaultTenant } from '../../src/ports.ts';
import { type StoredDocumentSpec, storedDocument } from '../support/stored-document.ts';

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
        embedding: Float32Array.from(document.vector),
      },
    ],
  };
}

/** A document in the contract's space, one chunk per text. */
function documentOf(spec: Omit<StoredDocumentSpec, 'dimensions'>): DocumentToStore {
  return storedDocument({ ...spec, dimensions: contractSpace.dimensions });
}

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

export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
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

      it('replaces a document whole: no chunk of the old revision remains', async () => {
        await store.upsertDocuments([
          documentOf({ id: 'notes', texts: ['apple one', 'apple two', 'apple three'] }),
        ]);
        const replacement = documentOf({ id: 'notes', texts: ['pear one'], revision: '2' });
        await store.upsertDocuments([replacement]);
        expect((await store.getChunks('notes')).map((chunk) => chunk.content)).toEqual(['pear one']);
        expect(ids(await store.search(request({ alpha: 0 })))).toEqual([]);
        expect(await store.search(request({ alpha: 1 }))).toHaveLength(1);
        expect((await store.getDocuments(['notes']))[0]).toMatchObject({
          chunkCount: 1,
          revisionHash: replacement.revisionHash,
        });
      });

      it('stores nothing of a batch that fails, and keeps what was stored before', async () => {
        await store.upsertDocuments([documentOf({ id: 'notes', texts: ['apple one'] })]);
        const broken = documentOf({ id: 'broken', texts: ['apple broken'] });
        const brokenChunk = broken.chunks[0];
        if (brokenChunk) brokenChunk.embedding = Float32Array.from([1, 0, 0]);
        await expect(
          store.upsertDocuments([
            documentOf({ id: 'notes', texts: ['pear two', 'pear three'], revision: '2' }),
            broken,
          ]),
        ).rejects.toThrow();
        expect(documentIds(await store.getDocuments(['notes', 'broken']))).toEqual(['notes', null]);
        expect((await store.getChunks('notes')).map((chunk) => chunk.content)).toEqual(['apple one']);
        expect(ids(await store.search(request({ alpha: 0 })))).toEqual(['notes']);
      });

      it('deletes a document with its chunks, once', async () => {
        await loadCorpus();
        expect(await store.deleteDocument('apple-orchard')).toBe(true);
        expect(await store.deleteDocument('apple-orchard')).toBe(false);
        expect(await store.getDocuments(['apple-orchard'])).toEqual([null]);
        expect(await store.getChunks('apple-orchard')).toEqual([]);
        expect(ids(await store.search(request({ alpha: 0 })))).toEqual(['apple-pie']);
        expect(ids(await store.search(request({ alpha: 1 })))).not.toContain('apple-orchard');
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
        expect(await fresh.search(request())).toEqual([]);
        expect(await fresh.deleteDocument('apple-orchard')).toBe(false);
      });

      it('refuses a tenant name outside letters, digits, - and _', () => {
        expect(() => subject.store.forTenant('../escape')).toThrow(RagqlError);
        expect(() => subject.store.forTenant('')).toThrow(/tenant/i);
      });
    });

    describe('embedding space', () => {
      it('refuses another space once chunks are stored', async () => {
        await loadCorpus();
        await expect(
          subject.store.bindEmbeddingSpace({ ...contractSpace, modelId: 'other' }),
        ).rejects.toMatchObject({
          code: 'EMBEDDING_SPACE_MISMATCH',
        });
      });

      it('reports itself ready', async () => {
        expect(await subject.store.readiness()).toEqual({ ready: true });
      });
    });
  });
}

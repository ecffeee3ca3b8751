import { describe, expect, it } from 'vitest';
import {
  AnswerDocument,
  DeleteDocumentDocument,
  DocumentDocument,
  DocumentsDocument,
  IngestDocumentsDocument,
  type IngestDocumentsMutationVariables,
  SearchDocument,
  type SearchQueryVariables,
  ServerInfoDocument,
} from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { useRagql } from '../support/use-ragql.ts';

const solarDocument = {
  id: 'solar',
  title: 'Solar power',
  source: 'https://example.org/solar',
  content:
    'Photovoltaic panels convert sunlight into electricity. Their efficiency drops as the panels get hot.\n\n' +
    'Inverters turn the direct current of the panels into alternating current for the grid.',
  metadata: { topic: 'energy', year: 2021, tags: ['solar', 'grid'] },
};
const windDocument = {
  id: 'wind',
  title: 'Wind power',
  content: 'Wind turbines turn the kinetic energy of moving air into electricity through a generator.',
  metadata: { topic: 'energy', year: 2019 },
};
const bakingDocument = {
  id: 'bread',
  title: 'Baking bread',
  content: 'Sourdough bread rises because wild yeast ferments the flour and releases carbon dioxide.',
  metadata: { topic: 'cooking', year: 2023, tags: ['bread'] },
};

describe('the GraphQL API over HTTP (embedded store, keyword-only)', () => {
  const ragql = useRagql({
    RAGQL_MAX_DOCUMENT_BYTES: '4096',
    RAGQL_MAX_DOCUMENTS_PER_REQUEST: '5',
  });

  async function storedDocumentIds(): Promise<string[]> {
    const page = dataOf(await ragql.execute(DocumentsDocument, { first: 100 }));
    return page.documents.edges.map((edge) => edge.node.id);
  }

  it('reports a keyword-only server when no embedder is configured', async () => {
    const { serverInfo } = dataOf(await ragql.execute(ServerInfoDocument));
    expect(serverInfo).toMatchObject({ store: 'embedded', embedder: null, generator: 'extractive' });
    expect(serverInfo.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('ingests documents and reports each as CREATED with its chunk count', async () => {
    const result = dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [solarDocument, windDocument, bakingDocument],
      }),
    );
    expect(result.ingestDocuments.created).toBe(3);
    expect(result.ingestDocuments.documents.map((document) => [document.id, document.status])).toEqual([
      ['solar', 'CREATED'],
      ['wind', 'CREATED'],
      ['bread', 'CREATED'],
    ]);
    expect(result.ingestDocuments.documents.every((document) => document.chunkCount >= 1)).toBe(true);
  });

  it('generates an id for a document sent without one', async () => {
    const result = dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [{ content: 'A note without an id about tides.' }],
      }),
    );
    const [created] = result.ingestDocuments.documents;
    expect(created?.id).toMatch(/^[0-9a-f-]{36}$/);
    const fetched = dataOf(await ragql.execute(DocumentDocument, { id: created?.id ?? '' }));
    expect(fetched.document?.chunks[0]?.content).toBe('A note without an id about tides.');
    dataOf(await ragql.execute(DeleteDocumentDocument, { id: created?.id ?? '' }));
  });

  it('returns a document with chunks whose offsets point at their text', async () => {
    const { document } = dataOf(await ragql.execute(DocumentDocument, { id: 'solar' }));
    expect(document).toMatchObject({
      id: 'solar',
      title: 'Solar power',
      source: 'https://example.org/solar',
      metadata: solarDocument.metadata,
      chunkCount: document?.chunks.length,
    });
    expect(document?.contentHash).toMatch(/^[0-9a-f]{64}$/);
    for (const chunk of document?.chunks ?? []) {
      expect(solarDocument.content.slice(chunk.startOffset, chunk.endOffset)).toBe(chunk.content);
    }
  });

  it('returns null for a document that does not exist', async () => {
    expect(dataOf(await ragql.execute(DocumentDocument, { id: 'no-such-document' })).document).toBeNull();
  });

  it('finds the matching chunk by keyword and names its document', async () => {
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough yeast', alpha: 0.5 }));
    expect(search.mode).toBe('KEYWORD');
    expect(search.hits[0]?.chunk.document).toMatchObject({ id: 'bread', title: 'Baking bread' });
    expect(search.hits[0]?.scores.keyword).toBeGreaterThan(0);
    expect(search.hits[0]?.scores.vector).toBeNull();
  });

  it('filters search results by metadata', async () => {
    const { search } = dataOf(
      await ragql.execute(SearchDocument, {
        query: 'electricity',
        filter: [
          { field: 'metadata.topic', eq: 'energy' },
          { field: 'metadata.year', gte: 2020 },
        ],
      }),
    );
    expect(search.hits.map((hit) => hit.chunk.document.id)).toEqual(['solar']);
  });

  it('answers with citations that map to the retrieved sources', async () => {
    const { answer } = dataOf(await ragql.execute(AnswerDocument, { question: 'What do inverters do?' }));
    expect(answer.generator).toBe('extractive');
    expect(answer.text).toContain('Inverters turn the direct current');
    expect(answer.citations.length).toBeGreaterThan(0);
    for (const citation of answer.citations) {
      expect(answer.text).toContain(`[${citation.marker}]`);
      expect(citation.chunk.id).toBe(answer.sources[citation.marker - 1]?.chunk.id);
    }
    expect(answer.citations[0]?.document).toEqual({ id: 'solar', title: 'Solar power' });
  });

  it('says so, without citations, when nothing relevant is indexed', async () => {
    const { answer } = dataOf(await ragql.execute(AnswerDocument, { question: 'quantum chromodynamics' }));
    expect(answer.sources).toEqual([]);
    expect(answer.citations).toEqual([]);
    expect(answer.text).toMatch(/nothing/i);
  });

  it('reports UNCHANGED for identical content and embeds nothing', async () => {
    const before = dataOf(await ragql.execute(DocumentDocument, { id: 'solar' })).document;
    const result = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: [solarDocument] }));
    expect(result.ingestDocuments).toMatchObject({ created: 0, updated: 0, unchanged: 1, embeddedChunks: 0 });
    const after = dataOf(await ragql.execute(DocumentDocument, { id: 'solar' })).document;
    expect(after?.updatedAt).toBe(before?.updatedAt);
  });

  it('reports UPDATED and replaces the chunks when content changes', async () => {
    const changed = {
      ...windDocument,
      content: 'Offshore wind farms produce steadier power than onshore turbines.',
    };
    const result = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: [changed] }));
    expect(result.ingestDocuments.documents[0]?.status).toBe('UPDATED');
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'kinetic energy moving air' }));
    expect(search.hits.map((hit) => hit.chunk.document.id)).not.toContain('wind');
    const offshore = dataOf(await ragql.execute(SearchDocument, { query: 'offshore' }));
    expect(offshore.search.hits[0]?.chunk.document.id).toBe('wind');
  });

  it('pages through documents with a Relay connection', async () => {
    const first = dataOf(await ragql.execute(DocumentsDocument, { first: 2 }));
    expect(first.documents.edges.map((edge) => edge.node.id)).toEqual(['bread', 'solar']);
    expect(first.documents.pageInfo.hasNextPage).toBe(true);
    const second = dataOf(
      await ragql.execute(DocumentsDocument, { first: 2, after: first.documents.pageInfo.endCursor }),
    );
    expect(second.documents.edges.map((edge) => edge.node.id)).toEqual(['wind']);
    expect(second.documents.pageInfo.hasNextPage).toBe(false);
  });

  it('filters the document list', async () => {
    const cooking = dataOf(
      await ragql.execute(DocumentsDocument, {
        first: 10,
        filter: [{ field: 'metadata.tags', eq: 'bread' }],
      }),
    );
    expect(cooking.documents.edges.map((edge) => edge.node.id)).toEqual(['bread']);
  });

  describe('bad input gets BAD_USER_INPUT and stores nothing', () => {
    const cases: [string, Record<string, unknown>[]][] = [
      ['empty content', [{ id: 'empty', content: '   ' }]],
      ['content over the size limit', [{ id: 'huge', content: 'word '.repeat(2000) }]],
      [
        'too many documents',
        Array.from({ length: 6 }, (_, index) => ({ id: `many-${index}`, content: 'x' })),
      ],
      ['nested metadata', [{ id: 'nested', content: 'text', metadata: { author: { name: 'Ann' } } }]],
      ['metadata that is not an object', [{ id: 'listmeta', content: 'text', metadata: ['a'] }]],
      ['a bad key in metadata', [{ id: 'badkey', content: 'text', metadata: { 'two words': 1 } }]],
      [
        'duplicate ids',
        [
          { id: 'twin', content: 'a' },
          { id: 'twin', content: 'b' },
        ],
      ],
      [
        'one bad document among good ones',
        [
          { id: 'good-1', content: 'fine' },
          { id: 'bad-1', content: '' },
        ],
      ],
    ];
    it.each(cases)('%s', async (_name, documents) => {
      const before = await storedDocumentIds();
      const response = await ragql.execute(IngestDocumentsDocument, {
        documents,
      } as unknown as IngestDocumentsMutationVariables);
      expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toMatch(/Nothing was ingested|Too many documents/);
      expect(await storedDocumentIds()).toEqual(before);
    });

    it('lists every problem of a batch at once', async () => {
      const response = await ragql.execute(IngestDocumentsDocument, {
        documents: [
          { id: 'a', content: '' },
          { id: 'b', content: 'ok', metadata: { deep: { x: 1 } } },
        ],
      });
      expect(response.errors?.[0]?.extensions?.problems).toEqual([
        'documents[0]: content is empty',
        'documents[1]: metadata.deep must be a string, a finite number, a boolean or an array of those',
      ]);
    });

    const searchCases: [string, Record<string, unknown>][] = [
      ['an empty query', { query: '' }],
      ['alpha above 1', { query: 'solar', alpha: 1.5 }],
      ['a negative limit', { query: 'solar', limit: -1 }],
      ['a huge limit', { query: 'solar', limit: 100000 }],
      ['a filter on an invalid field', { query: 'solar', filter: [{ field: 'metadata.a b', eq: 1 }] }],
      ['a filter with two operators', { query: 'solar', filter: [{ field: 'title', eq: 'a', ne: 'b' }] }],
      ['a filter with no operator', { query: 'solar', filter: [{ field: 'title' }] }],
      ['a range filter on a boolean', { query: 'solar', filter: [{ field: 'metadata.year', gt: true }] }],
    ];
    it.each(searchCases)('search with %s', async (_name, variables) => {
      const response = await ragql.execute(SearchDocument, variables as unknown as SearchQueryVariables);
      expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.data).toBeNull();
    });
  });

  it('deletes a document, idempotently', async () => {
    const first = dataOf(await ragql.execute(DeleteDocumentDocument, { id: 'bread' }));
    expect(first.deleteDocument).toEqual({ id: 'bread', deleted: true });
    const again = dataOf(await ragql.execute(DeleteDocumentDocument, { id: 'bread' }));
    expect(again.deleteDocument).toEqual({ id: 'bread', deleted: false });
    expect(dataOf(await ragql.execute(DocumentDocument, { id: 'bread' })).document).toBeNull();
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough' }));
    expect(search.hits).toEqual([]);
  });

  it('keeps the data across a restart', async () => {
    await ragql.restart({});
    expect(await storedDocumentIds()).toEqual(['solar', 'wind']);
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'inverters' }));
    expect(search.hits[0]?.chunk.document.id).toBe('solar');
    const again = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: [solarDocument] }));
    expect(again.ingestDocuments.unchanged).toBe(1);
  });
});

describe('errors before execution', () => {
  const ragql = useRagql();

  async function post(
    body: unknown,
  ): Promise<{ status: number; errors: { message: string; extensions?: { code?: string } }[] }> {
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, errors: ((await response.json()) as { errors: never[] }).errors };
  }

  it('names a syntax error GRAPHQL_PARSE_FAILED', async () => {
    const { errors } = await post({ query: '{ search(query: "x" { mode } }' });
    expect(errors[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('names an unknown field GRAPHQL_VALIDATION_FAILED', async () => {
    const { errors } = await post({ query: '{ serverInfo { password } }' });
    expect(errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('rejects a query nested deeper than the limit', async () => {
    const deep =
      '{ search(query: "x") { hits { chunk { document { chunks { document { chunks { document { chunks { document { id } } } } } } } } } } }';
    const { errors } = await post({ query: deep });
    expect(errors[0]?.message).toMatch(/depth/i);
    expect(errors[0]?.extensions?.code).toBeDefined();
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: 20 }, (_, index) => `a${index}: serverInfo { version }`).join(' ');
    const { errors } = await post({ query: `{ ${aliases} }` });
    expect(errors[0]?.message).toMatch(/alias/i);
    expect(errors[0]?.extensions?.code).toBeDefined();
  });

  it('answers /healthz and /readyz', async () => {
    const base = new URL(ragql.server.graphqlUrl);
    expect((await fetch(new URL('/healthz', base))).status).toBe(200);
    expect((await fetch(new URL('/readyz', base))).status).toBe(200);
  });

  it('masks an unexpected failure and names the request', async () => {
    await ragql.services.store.close();
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'test-request-1' },
      body: JSON.stringify({ query: '{ document(id: "x") { id } }' }),
    });
    const body = (await response.json()) as {
      errors: { message: string; extensions: Record<string, unknown> }[];
    };
    expect(body.errors[0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'test-request-1' },
    });
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
    expect((await fetch(new URL('/readyz', ragql.server.graphqlUrl))).status).toBe(503);
  });
});

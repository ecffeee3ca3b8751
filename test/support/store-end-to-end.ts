/**
 * What every store must serve end to end over GraphQL, whichever engine is behind RAGQL_STORE:
 * ingestion (and free re-ingestion), keyword, vector and hybrid search with filters, an answer
 * with citations and its stream, deletion, and a restart that finds the data where it was.
 */
import { beforeAll, expect, it } from 'vitest';
import {
  AnswerDocument,
  AnswerStreamDocument,
  DeleteDocumentDocument,
  DocumentsDocument,
  IngestDocumentsDocument,
  SearchDocument,
  ServerInfoDocument,
} from '../generated/graphql.ts';
import { answerStreamEvents } from './answer-stream-events.ts';
import { dataOf } from './graphql-client.ts';
import type { OpenAIStandin } from './openai-standin.ts';
import { collect, subscriptionClient } from './subscription-clients.ts';
import type { RagqlFixture } from './use-ragql.ts';

export const endToEndDocuments = [
  {
    id: 'solar',
    title: 'Solar power',
    content:
      'Photovoltaic panels convert sunlight into electricity. Inverters turn direct current into alternating current.',
    metadata: { topic: 'energy', year: 2021 },
  },
  {
    id: 'bread',
    title: 'Baking bread',
    content: 'Sourdough bread rises because wild yeast ferments the flour.',
    metadata: { topic: 'cooking', year: 2023 },
  },
  {
    id: 'wind',
    title: 'Wind power',
    content: 'Wind turbines turn the kinetic energy of moving air into electricity through a generator.',
    metadata: { topic: 'energy', year: 2019 },
  },
];

/**
 * The end-to-end cases, in the calling describe block, on the server of `ragql` (started with the
 * store under test and the embeddings of `standin`, a useOpenAIStandin handle) whose serverInfo
 * reports the store as `kind`. The server's restart must find the same store again.
 */
export function storeEndToEndCases(kind: string, ragql: RagqlFixture, standin: OpenAIStandin): void {
  beforeAll(async () => {
    dataOf(await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments }));
  });

  it('reports the store, and re-ingests unchanged documents without embedding them again', async () => {
    expect(dataOf(await ragql.execute(ServerInfoDocument)).serverInfo.store).toBe(kind);
    const embeddingCalls = standin.requests.length;
    const again = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments }));
    expect(again.ingestDocuments.unchanged).toBe(endToEndDocuments.length);
    expect(standin.requests.length).toBe(embeddingCalls);
  });

  it('searches by keyword, by vector and hybrid, each mode as asked and with its scores', async () => {
    const keyword = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough yeast', alpha: 0 }));
    expect(keyword.search.mode).toBe('KEYWORD');
    expect(keyword.search.hits.map((hit) => hit.chunk.document.id)).toEqual(['bread']);
    expect(keyword.search.hits[0]?.scores.keyword).toBeGreaterThan(0);
    expect(keyword.search.hits[0]?.scores.vector).toBeNull();

    const vector = dataOf(
      await ragql.execute(SearchDocument, { query: 'sourdough yeast', alpha: 1, limit: 3 }),
    );
    expect(vector.search.mode).toBe('VECTOR');
    expect(vector.search.hits).toHaveLength(3);
    expect(vector.search.hits.every((hit) => hit.scores.keyword === null && hit.scores.vector !== null)).toBe(
      true,
    );

    const hybrid = dataOf(await ragql.execute(SearchDocument, { query: 'sunlight electricity', alpha: 0.5 }));
    expect(hybrid.search.mode).toBe('HYBRID');
    expect(hybrid.search.hits[0]?.chunk.document.id).toBe('solar');
    expect(hybrid.search.hits[0]?.scores.keyword).toBeGreaterThan(0);
    expect(hybrid.search.hits[0]?.scores.vector).not.toBeNull();
  });

  it('applies metadata filters in every mode', async () => {
    const filter = [
      { field: 'metadata.topic', eq: 'energy' },
      { field: 'metadata.year', gte: 2020 },
    ];
    for (const alpha of [0, 0.5, 1]) {
      const { search } = dataOf(
        await ragql.execute(SearchDocument, { query: 'electricity power', alpha, filter }),
      );
      expect(search.hits.map((hit) => hit.chunk.document.id)).toEqual(['solar']);
    }
  });

  it('answers with citations, and streams the same answer token by token', async () => {
    const question = 'What do inverters do?';
    const { answer } = dataOf(await ragql.execute(AnswerDocument, { question }));
    expect(answer.text).toContain('Inverters turn direct current');
    expect(answer.citations[0]?.document.id).toBe('solar');

    const client = subscriptionClient('websocket', ragql.server.graphqlUrl);
    try {
      const events = answerStreamEvents(await collect(client.subscribe(AnswerStreamDocument, { question })));
      const completed = events.at(-1);
      if (completed?.__typename !== 'AnswerCompleted') throw new Error('the stream did not complete');
      const tokens = events.flatMap((event) => (event.__typename === 'AnswerToken' ? [event.text] : []));
      expect(tokens.length).toBeGreaterThan(0);
      expect(tokens.join('')).toBe(answer.text);
      expect(completed.text).toBe(answer.text);
      expect(completed.citations[0]?.document.id).toBe('solar');
    } finally {
      await client.dispose();
    }
  });

  it('deletes a document, and after a restart finds every other one where it was', async () => {
    const deleted = dataOf(await ragql.execute(DeleteDocumentDocument, { id: 'wind' }));
    expect(deleted.deleteDocument.deleted).toBe(true);
    const gone = dataOf(await ragql.execute(SearchDocument, { query: 'turbines', alpha: 0 }));
    expect(gone.search.hits).toEqual([]);

    await ragql.restart();
    const page = dataOf(await ragql.execute(DocumentsDocument, { first: 10 }));
    expect(page.documents.edges.map((edge) => edge.node.id)).toEqual(['bread', 'solar']);
    const found = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough', alpha: 0.5 }));
    expect(found.search.hits[0]?.chunk.document.id).toBe('bread');
    const stillGone = dataOf(await ragql.execute(SearchDocument, { query: 'turbines', alpha: 0 }));
    expect(stillGone.search.hits).toEqual([]);
  });
}

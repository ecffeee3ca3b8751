import { beforeAll, describe, expect, it } from 'vitest';
import { IngestDocumentsDocument, SearchDocument, ServerInfoDocument } from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import type { OpenAIStandin } from '../support/openai-standin.ts';
import { withStandinEmbeddings } from '../support/ragql-environment.ts';
import { startRagql } from '../support/ragql-instance.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const documents = [
  {
    id: 'tea',
    title: 'Green tea',
    content: 'Green tea leaves are steamed to stop oxidation, keeping them green.',
  },
  {
    id: 'coffee',
    title: 'Coffee roasting',
    content: 'Coffee beans are roasted until the sugars caramelise.',
  },
  { id: 'cocoa', title: 'Cocoa', content: 'Cocoa beans ferment for days before they are dried and roasted.' },
];

function embeddingRequests(standin: OpenAIStandin) {
  return standin.requests.filter((request) => request.path === '/v1/embeddings');
}

describe('vector and hybrid search through the real openai SDK', () => {
  const standin = useOpenAIStandin({ dimensions: 64 });
  const environment = () => ({
    ...withStandinEmbeddings(standin, 64),
    OPENAI_API_KEY: 'sk-test',
  });

  const ragql = useRagql(environment);
  beforeAll(async () => {
    dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
  });

  it('names the embedder in serverInfo', async () => {
    const { serverInfo } = dataOf(await ragql.execute(ServerInfoDocument));
    expect(serverInfo.embedder).toBe('openai/standin-embedding');
  });

  it('embeds every chunk once, as documents, in one batched call', () => {
    const [ingestCall] = embeddingRequests(standin);
    expect(ingestCall?.body).toMatchObject({ model: 'standin-embedding', dimensions: 64 });
    expect((ingestCall?.body as { input?: string[] } | undefined)?.input).toHaveLength(3);
  });

  it('runs a hybrid search with both kinds of score when 0 < alpha < 1', async () => {
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'roasted beans', alpha: 0.5 }));
    expect(search.mode).toBe('HYBRID');
    const top = search.hits[0];
    expect(['coffee', 'cocoa']).toContain(top?.chunk.document.id);
    expect(top?.scores.keyword).toBeGreaterThan(0);
    expect(top?.scores.vector).toBeGreaterThan(0);
  });

  it('runs a vector-only search at alpha 1', async () => {
    const { search } = dataOf(
      await ragql.execute(SearchDocument, { query: 'steamed green leaves', alpha: 1 }),
    );
    expect(search.mode).toBe('VECTOR');
    expect(search.hits[0]?.chunk.document.id).toBe('tea');
    expect(search.hits.every((hit) => hit.scores.keyword === null)).toBe(true);
  });

  it('makes no embedding call for a keyword-only search', async () => {
    const before = embeddingRequests(standin).length;
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'oxidation', alpha: 0 }));
    expect(search.mode).toBe('KEYWORD');
    expect(embeddingRequests(standin)).toHaveLength(before);
  });

  it('agrees on the ranking with both fusion methods for a clear winner', async () => {
    for (const fusion of ['RANKED', 'RELATIVE_SCORE'] as const) {
      const { search } = dataOf(
        await ragql.execute(SearchDocument, { query: 'green tea oxidation', alpha: 0.5, fusion }),
      );
      expect(search.hits[0]?.chunk.document.id).toBe('tea');
    }
  });

  it('re-ingests unchanged documents without calling the embedder', async () => {
    const before = embeddingRequests(standin).length;
    const result = dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
    expect(result.ingestDocuments.unchanged).toBe(3);
    expect(embeddingRequests(standin)).toHaveLength(before);
  });

  it('makes no embedding call for the same text under a new document id, nor for a repeated query', async () => {
    const before = embeddingRequests(standin).length;
    const copies = documents.map((document) => ({ ...document, id: `${document.id}-copy` }));
    const result = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: copies }));
    expect(result.ingestDocuments.created).toBe(3);
    expect(embeddingRequests(standin)).toHaveLength(before);

    dataOf(await ragql.execute(SearchDocument, { query: 'a question asked twice', alpha: 0.5 }));
    const afterFirst = embeddingRequests(standin).length;
    expect(afterFirst).toBe(before + 1);
    const { search } = dataOf(
      await ragql.execute(SearchDocument, { query: 'a question asked twice', alpha: 0.5 }),
    );
    expect(search.mode).toBe('HYBRID');
    expect(embeddingRequests(standin)).toHaveLength(afterFirst);
  });

  it('refuses to start with a different embedding model over the same store', async () => {
    await ragql.stop();
    await expect(
      startRagql(ragql.dataDir, { ...environment(), RAGQL_EMBEDDING_MODEL: 'another-model' }),
    ).rejects.toMatchObject({
      code: 'EMBEDDING_SPACE_MISMATCH',
      message: expect.stringMatching(/standin-embedding.*another-model.*RAGQL_DATA_DIR/s),
    });
    await expect(startRagql(ragql.dataDir, {})).rejects.toMatchObject({ code: 'EMBEDDING_SPACE_MISMATCH' });
    await ragql.restart();
    const { search } = dataOf(
      await ragql.execute(SearchDocument, { query: 'cocoa fermentation', alpha: 0.5 }),
    );
    expect(search.hits[0]?.chunk.document.id).toBe('cocoa');
  });

  it('surfaces a failing embedding provider as an error and stores nothing', async () => {
    standin.failNext(401, {
      error: { message: 'Incorrect API key provided: sk-test', type: 'invalid_request_error', code: null },
    });
    const response = await ragql.execute(IngestDocumentsDocument, {
      documents: [{ id: 'rejected', content: 'This text will not be embedded.' }],
    });
    expect(response.errors?.[0]?.extensions?.code).toBe('UPSTREAM_FAILED');
    expect(JSON.stringify(response.errors)).not.toContain('sk-test');
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'embedded', alpha: 0 }));
    expect(search.hits.map((hit) => hit.chunk.document.id)).not.toContain('rejected');
  });
});

/**
 * ragql with RAGQL_STORE=postgres, end to end over GraphQL (PGlite with pgvector over the wire
 * protocol, or RAGQL_TEST_DATABASE_URL's server); and a ragql started while its PostgreSQL is down,
 * which must start, say why it is not ready, refuse requests with UPSTREAM_UNAVAILABLE, and serve
 * by itself once PostgreSQL answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { freePort } from '../support/free-port.ts';
import { dataOf } from '../support/graphql-client.ts';
import { startTestPostgres, type TestPostgres, usePostgres } from '../support/postgres.ts';
import { withStandinEmbeddings } from '../support/ragql-environment.ts';
import { endToEndDocuments, storeEndToEndCases } from '../support/store-end-to-end.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the GraphQL API on PostgreSQL + pgvector', () => {
  const standin = useOpenAIStandin({ dimensions: 64 });
  const postgres = usePostgres();
  const ragql = useRagql(() => ({
    RAGQL_STORE: 'postgres',
    DATABASE_URL: postgres.url,
    ...withStandinEmbeddings(standin, 64),
  }));

  storeEndToEndCases('postgres', ragql, standin);
});

describe('ragql while its PostgreSQL is down', () => {
  let port: number;
  let postgres: TestPostgres | undefined;
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(async () => {
    await postgres?.stop();
  });
  const ragql = useRagql(() => ({
    RAGQL_STORE: 'postgres',
    DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
  }));

  it('starts, says why it is not ready, refuses requests as unavailable, and serves once PostgreSQL is up', async () => {
    const readyz = new URL('/readyz', ragql.server.graphqlUrl);
    const notReady = await fetch(readyz);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+\/postgres cannot be reached/);

    const refused = await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(refused.errors?.[0]?.message).toMatch(
      /PostgreSQL at 127\.0\.0\.1:\d+\/postgres cannot be reached/,
    );

    postgres = await startTestPostgres({ port });
    await expect.poll(async () => (await fetch(readyz)).status, { timeout: 15_000 }).toBe(200);
    const ingested = dataOf(await ragql.execute(IngestDocumentsDocument, { documents: endToEndDocuments }));
    expect(ingested.ingestDocuments.created).toBe(endToEndDocuments.length);
    const { search } = dataOf(await ragql.execute(SearchDocument, { query: 'sourdough' }));
    expect(search.hits.map((hit) => hit.chunk.document.id)).toEqual(['bread']);
  });
});

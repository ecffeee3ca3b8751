/**
 * The embedding cache belongs to its tenant: a vector one tenant made is never served to another,
 * so neither a cache hit in /metrics nor a faster answer tells a tenant what another one stored or
 * searched. And ingestion reports as embedded only the chunks the embedding model received.
 */
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinEmbeddings } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const acme = createApiKey();
const globex = createApiKey();

describe('the embedding cache, shared by two tenants', () => {
  const standin = useOpenAIStandin({ dimensions: 64 });
  const asAcme = () => graphqlClient(ragql.server.graphqlUrl, acme.key);
  const asGlobex = () => graphqlClient(ragql.server.graphqlUrl, globex.key);
  /** The texts the embedding model received since the test began. */
  const embeddedTextsSince = (start: number) =>
    standin.requests
      .slice(start)
      .filter((request) => request.path === '/v1/embeddings')
      .flatMap((request) => (request.body as { input: string[] }).input);

  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'acme', tier: 'pro', hash: acme.hash },
        { tenant: 'globex', tier: 'pro', hash: globex.hash },
      ],
    }),
    ...withStandinEmbeddings(standin, 64),
  }));

  it("sends a tenant's query to the model though another tenant asked it before, and only once", async () => {
    const query = 'Who bought the merger documents on Tuesday?';
    const start = standin.requests.length;
    dataOf(await asAcme()(SearchDocument, { query, alpha: 1 }));
    dataOf(await asGlobex()(SearchDocument, { query, alpha: 1 }));
    dataOf(await asAcme()(SearchDocument, { query, alpha: 1 }));
    expect(embeddedTextsSince(start)).toEqual([query, query]);
  });

  it("embeds a tenant's chunk though another tenant stored the same text", async () => {
    const content = 'The board meets in secret on the first Monday of March.';
    const start = standin.requests.length;
    const stored = dataOf(await asAcme()(IngestDocumentsDocument, { documents: [{ id: 'a', content }] }));
    const again = dataOf(await asGlobex()(IngestDocumentsDocument, { documents: [{ id: 'b', content }] }));
    expect(embeddedTextsSince(start)).toEqual([content, content]);
    expect(stored.ingestDocuments.embeddedChunks).toBe(1);
    expect(again.ingestDocuments.embeddedChunks).toBe(1);
  });

  it('counts in embeddedChunks only the chunks the model embedded, not those the cache served', async () => {
    const content = 'Tides follow the moon around the earth twice a day.';
    dataOf(await asAcme()(IngestDocumentsDocument, { documents: [{ id: 'first', content }] }));
    const start = standin.requests.length;
    const copy = dataOf(
      await asAcme()(IngestDocumentsDocument, {
        documents: [
          { id: 'copy', content },
          { id: 'new', content: 'Storms come from the west in autumn.' },
        ],
      }),
    );
    expect(embeddedTextsSince(start)).toEqual(['Storms come from the west in autumn.']);
    expect(copy.ingestDocuments.embeddedChunks).toBe(1);
  });
});

/**
 * API keys and tenants, on both stores: with RAGQL_AUTH=on every operation on every transport
 * needs a key from the config file, and a key's tenant never reaches another tenant's documents,
 * guessed ids included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import {
  AnswerDocument,
  AnswerStreamDocument,
  DeleteDocumentDocument,
  DocumentDocument,
  DocumentsDocument,
  IngestDocumentsDocument,
  SearchDocument,
} from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { collect, subscriptionClient, transports } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';
import { describeWithWeaviate, uniqueCollectionName } from '../support/weaviate.ts';

const acme = createApiKey();
const globex = createApiKey();

function describeAuthentication(storeName: string, storeEnvironment: () => Record<string, string>) {
  describe(`API keys and tenants on the ${storeName} store`, () => {
    const asAcme = () => graphqlClient(ragql.server.graphqlUrl, acme.key);
    const asGlobex = () => graphqlClient(ragql.server.graphqlUrl, globex.key);

    const ragql = useRagql((dataDir) => ({
      ...storeEnvironment(),
      ...withAuthentication(dataDir, {
        apiKeys: [
          { name: 'acme ci', tenant: 'acme', tier: 'pro', hash: acme.hash },
          { tenant: 'globex', tier: 'free', hash: globex.hash },
        ],
      }),
    }));
    beforeAll(async () => {
      dataOf(
        await asAcme()(IngestDocumentsDocument, {
          documents: [
            { id: 'plan', title: 'Acme plan', content: 'The rocket skates launch in spring.' },
            { id: 'shared-id', content: 'Acme keeps anvils in the warehouse.' },
          ],
        }),
      );
      dataOf(
        await asGlobex()(IngestDocumentsDocument, {
          documents: [{ id: 'shared-id', content: 'Globex keeps volcanoes in the basement.' }],
        }),
      );
    });

    it('refuses every operation without a valid key, with UNAUTHENTICATED', async () => {
      for (const execute of [
        graphqlClient(ragql.server.graphqlUrl),
        graphqlClient(ragql.server.graphqlUrl, 'rq_not-a-real-key'),
      ]) {
        for (const response of [
          await execute(SearchDocument, { query: 'rocket' }),
          await execute(DocumentDocument, { id: 'plan' }),
          await execute(IngestDocumentsDocument, { documents: [{ content: 'Sneaky.' }] }),
          await execute(DeleteDocumentDocument, { id: 'plan' }),
        ]) {
          expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
          expect(response.data ?? null).toBeNull();
        }
      }
      expect((await asAcme()(DocumentDocument, { id: 'plan' })).data?.document?.title).toBe('Acme plan');
    });

    it("never shows one tenant another's documents, by id, listing, search or answer", async () => {
      expect(dataOf(await asGlobex()(DocumentDocument, { id: 'plan' })).document).toBeNull();
      const listed = dataOf(await asGlobex()(DocumentsDocument, { first: 10 })).documents.edges;
      expect(listed.map((edge) => edge.node.id)).toEqual(['shared-id']);
      expect(dataOf(await asGlobex()(SearchDocument, { query: 'rocket skates anvils' })).search.hits).toEqual(
        [],
      );
      const answer = dataOf(
        await asGlobex()(AnswerDocument, { question: 'When do the rocket skates launch?' }),
      );
      expect(answer.answer.sources).toEqual([]);

      // The same id in two tenants is two documents.
      const mine = dataOf(await asGlobex()(DocumentDocument, { id: 'shared-id' })).document;
      expect(mine?.chunks.map((chunk) => chunk.content)).toEqual(['Globex keeps volcanoes in the basement.']);
      const theirs = dataOf(await asAcme()(DocumentDocument, { id: 'shared-id' })).document;
      expect(theirs?.chunks.map((chunk) => chunk.content)).toEqual(['Acme keeps anvils in the warehouse.']);
    });

    it('answers an unauthenticated event-stream request 401, with the error code in its body', async () => {
      const response = await fetch(ragql.server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { answerStream(question: "rocket") { __typename } }' }),
      });
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('"code":"UNAUTHENTICATED"');
    });

    it("cannot delete another tenant's document", async () => {
      expect(dataOf(await asGlobex()(DeleteDocumentDocument, { id: 'plan' })).deleteDocument.deleted).toBe(
        false,
      );
      expect(dataOf(await asAcme()(DocumentDocument, { id: 'plan' })).document?.id).toBe('plan');
    });

    it('needs a key on both subscription transports, and streams the key holder’s documents', async () => {
      for (const transport of transports) {
        const anonymous = subscriptionClient(transport, ragql.server.graphqlUrl);
        try {
          const outcome = await collect(
            anonymous.subscribe(AnswerStreamDocument, { question: 'rocket skates' }),
          ).then(
            (results) => ({
              closeCode: null,
              codes: results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code),
            }),
            (error: unknown) => ({
              closeCode: (error as { code?: unknown }).code ?? null,
              codes: [String(error)],
            }),
          );
          // graphql-ws closes the connection with 4403 Forbidden; SSE requests are answered 401.
          if (transport === 'websocket') expect(outcome.closeCode).toBe(4403);
          else expect(outcome.codes).toEqual([expect.stringContaining('401')]);
        } finally {
          await anonymous.dispose();
        }
        const client = subscriptionClient(transport, ragql.server.graphqlUrl, acme.key);
        try {
          const events = await collect(
            client.subscribe(AnswerStreamDocument, { question: 'When do rocket skates launch?' }),
          );
          const sources = events
            .map((event) => event.data?.answerStream)
            .find((event) => event?.__typename === 'AnswerSources');
          expect(sources && 'sources' in sources ? sources.sources.map((hit) => hit.chunk.id) : null).toEqual(
            ['plan#0'],
          );
        } finally {
          await client.dispose();
        }
      }
    });
  });
}

describeAuthentication('embedded', () => ({}));

describeWithWeaviate('API keys and tenants on Weaviate', (endpoint) => {
  describeAuthentication('Weaviate', () => ({
    RAGQL_STORE: 'weaviate',
    WEAVIATE_URL: endpoint.httpUrl,
    WEAVIATE_GRPC_URL: endpoint.grpcAddress,
    RAGQL_WEAVIATE_COLLECTION_PREFIX: uniqueCollectionName('Auth'),
  }));
});

describe('starting with authentication on', () => {
  it('refuses to start without any key, saying how to make one', async () => {
    const dataDir = temporaryDataDir();
    try {
      await expect(startRagql(dataDir.path, { RAGQL_AUTH: 'on' })).rejects.toThrow('ragql keys create');
    } finally {
      dataDir.remove();
    }
  });
});

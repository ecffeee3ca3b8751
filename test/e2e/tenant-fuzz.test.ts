/**
 * Tenant isolation, fuzzed: whatever ids, queries and filters another tenant sends (the owner's
 * real ids and words included), it never reads, finds or deletes the owner's documents.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { filterConditions, fuzzSeed } from '../support/arbitraries.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';

const owner = createApiKey();
const intruder = createApiKey();
const secrets = Array.from({ length: 20 }, (_, index) => ({
  id: `secret-${index}`,
  title: `Secret ${index}`,
  source: `vault/${index}`,
  metadata: { level: index % 3, team: index % 2 ? 'red' : 'blue' },
  content: `Classified plan ${index}: the password is kumquat${index}. Tides hide the vault.`,
}));

describe('tenant isolation, fuzzed', () => {
  const as = (key: string, query: string, variables?: unknown) =>
    fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    }).then((response) => response.text());

  const ragql = useRagql((dataDir) =>
    withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'owner', tier: 'enterprise', hash: owner.hash },
        { tenant: 'intruder', tier: 'enterprise', hash: intruder.hash },
      ],
    }),
  );
  beforeAll(async () => {
    await as(owner.key, 'mutation($d: [DocumentInput!]!) { ingestDocuments(documents: $d) { created } }', {
      d: secrets,
    });
    await as(
      intruder.key,
      'mutation { ingestDocuments(documents: [{ id: "mine", content: "Tides and plans." }]) { created } }',
    );
  });

  /** Anything of the owner's that could leak: ids, titles, sources and the secret words. */
  const leaked = (text: string) => /secret-\d|Secret \d|vault\/\d|kumquat|Classified/.test(text);
  const someId = fc.oneof(fc.constantFrom(...secrets.map((secret) => secret.id)), fc.string(), fc.uuid());
  const someFilter = filterConditions(['title', 'source', 'metadata.level', 'metadata.team']);

  it("never returns the owner's documents to another tenant, by id, list, search or answer", async () => {
    await fc.assert(
      fc.asyncProperty(
        someId,
        fc.oneof(fc.string(), fc.constantFrom('kumquat1 password', 'classified plan tides')),
        someFilter,
        async (id, words, filter) => {
          const responses = await Promise.all([
            as(intruder.key, 'query($id: ID!) { document(id: $id) { id title source chunks { content } } }', {
              id,
            }),
            as(
              intruder.key,
              'query($f: [FilterCondition!]) { documents(first: 50, filter: $f) { edges { node { id title } } } }',
              { f: filter },
            ),
            as(
              intruder.key,
              'query($q: String!, $f: [FilterCondition!]) { search(query: $q, filter: $f, limit: 50) { hits { chunk { content document { id title source } } } } }',
              { q: words, f: filter },
            ),
            as(
              intruder.key,
              'query($q: String!) { answer(question: $q) { text citations { document { id } } } }',
              { q: words || 'tides' },
            ),
          ]);
          for (const response of responses) expect(leaked(response), response).toBe(false);
        },
      ),
      { numRuns: 60, seed: fuzzSeed },
    );
  });

  it("cannot delete the owner's documents by guessing their ids", async () => {
    for (const secret of secrets.slice(0, 5)) {
      const response = await as(intruder.key, 'mutation($id: ID!) { deleteDocument(id: $id) { deleted } }', {
        id: secret.id,
      });
      expect(response).toContain('"deleted":false');
    }
    const stillThere = await as(owner.key, 'query { documents(first: 50) { edges { node { id } } } }');
    expect(stillThere.match(/secret-\d+/g)).toHaveLength(secrets.length);
  });
});

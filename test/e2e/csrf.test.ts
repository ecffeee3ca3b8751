/**
 * Cross-site request forgery: with authentication off and CORS restricted, a page on another site
 * can still make a browser POST a form, a multipart body or plain text (no preflight is asked
 * for), so such bodies must not reach GraphQL at all. JSON bodies, which need a preflight, and
 * GET queries keep working; mutations over GET stay refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RagqlInstance, startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { rawRequest } from '../support/raw-http.ts';

const ingest =
  'mutation { ingestDocuments(documents: [{ id: "planted", content: "forged by another site" }]) { created } }';
const remove = 'mutation { deleteDocument(id: "kept") { __typename } }';

describe('cross-site request forgery with authentication off', () => {
  const dataDir = temporaryDataDir();
  let ragql: RagqlInstance;
  const count = async () => {
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ documents(first: 10) { edges { node { id } } } }' }),
    });
    const result = (await response.json()) as { data: { documents: { edges: { node: { id: string } }[] } } };
    return result.data.documents.edges.map((edge) => edge.node.id).sort();
  };

  beforeAll(async () => {
    ragql = await startRagql(dataDir.path, { RAGQL_CORS_ORIGINS: 'https://app.example.com' });
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation { ingestDocuments(documents: [{ id: "kept", content: "the tenant\'s own" }]) { created } }',
      }),
    });
    expect(await response.json()).toEqual({ data: { ingestDocuments: { created: 1 } } });
  });
  afterAll(async () => {
    await ragql?.stop();
    dataDir.remove();
  });

  const forgeries: [string, string | undefined, (query: string) => string][] = [
    ['a form', 'application/x-www-form-urlencoded', (query) => new URLSearchParams({ query }).toString()],
    [
      'a form whose type has parameters',
      'Application/X-WWW-Form-Urlencoded; charset=utf-8',
      (query) => new URLSearchParams({ query }).toString(),
    ],
    [
      'a multipart form',
      'multipart/form-data; boundary=b',
      (query) =>
        `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query })}\r\n--b\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--b--\r\n`,
    ],
    ['plain text holding JSON', 'text/plain', (query) => JSON.stringify({ query })],
    ['a body without a type', undefined, (query) => JSON.stringify({ query })],
  ];

  for (const [name, contentType, encode] of forgeries) {
    it(`refuses ${name} with 415 BAD_REQUEST and runs nothing`, async () => {
      for (const query of [ingest, remove]) {
        const response = await rawRequest(
          ragql.server.port,
          'POST',
          '/graphql',
          {
            origin: 'https://evil.example',
            ...(contentType ? { 'content-type': contentType } : {}),
          },
          encode(query),
        );
        expect(response.status).toBe(415);
        expect(JSON.parse(response.body)).toMatchObject({
          errors: [{ extensions: { code: 'BAD_REQUEST' } }],
        });
      }
      expect(await count()).toEqual(['kept']);
    });
  }

  it('refuses mutations over GET and still answers queries over GET', async () => {
    const mutation = await fetch(`${ragql.server.graphqlUrl}?query=${encodeURIComponent(remove)}`);
    expect(mutation.status).toBe(405);
    const query = await fetch(
      `${ragql.server.graphqlUrl}?query=${encodeURIComponent('{ serverInfo { version } }')}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    expect(query.status).toBe(200);
    expect(await count()).toEqual(['kept']);
  });

  it('gives no origin credentials: a listed origin gets no allow-credentials, others are not allowed', async () => {
    const allowed = await fetch(ragql.server.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await fetch(ragql.server.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});

describe('CORS by default (any origin)', () => {
  const dataDir = temporaryDataDir();
  let ragql: RagqlInstance;
  beforeAll(async () => {
    ragql = await startRagql(dataDir.path, {});
  });
  afterAll(async () => {
    await ragql?.stop();
    dataDir.remove();
  });

  it('allows any origin without credentials', async () => {
    for (const method of ['OPTIONS', 'POST']) {
      const response = await fetch(ragql.server.graphqlUrl, {
        method,
        headers: {
          origin: 'https://anywhere.example',
          'access-control-request-method': 'POST',
          'content-type': 'application/json',
        },
        ...(method === 'POST' ? { body: JSON.stringify({ query: '{ serverInfo { version } }' }) } : {}),
      });
      expect(response.headers.get('access-control-allow-origin')).toMatch(
        /^(\*|https:\/\/anywhere\.example)$/,
      );
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});

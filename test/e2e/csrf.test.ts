/**
 * Cross-site request forgery: with authentication off and CORS restricted, a page on another site
 * can still make a browser POST a form, a multipart body or plain text (no preflight is asked
 * for), so such bodies must not reach GraphQL at all. JSON bodies, which need a preflight, and
 * GET queries keep working; mutations over GET stay refused. A GET (an `<img>`) and a WebSocket
 * upgrade need no preflight either: from a site CORS does not allow, they are refused by the
 * headers a browser always sends with them (Origin, Sec-Fetch-Site).
 */
import { createClient } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawRequest } from '../support/raw-http.ts';
import { collect } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';

const ingest =
  'mutation { ingestDocuments(documents: [{ id: "planted", content: "forged by another site" }]) { created } }';
const remove = 'mutation { deleteDocument(id: "kept") { __typename } }';

describe('cross-site request forgery with authentication off', () => {
  const count = async () => {
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ documents(first: 10) { edges { node { id } } } }' }),
    });
    const result = (await response.json()) as { data: { documents: { edges: { node: { id: string } }[] } } };
    return result.data.documents.edges.map((edge) => edge.node.id).sort();
  };

  const ragql = useRagql({ RAGQL_CORS_ORIGINS: 'https://app.example.com' });
  beforeAll(async () => {
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

  it('refuses a GET from a page on a site CORS does not allow, with or without an Origin', async () => {
    const path = `/graphql?query=${encodeURIComponent('{ serverInfo { version } }')}`;
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of foreign) {
      const response = await rawRequest(ragql.server.port, 'GET', path, {
        accept: 'application/json',
        ...headers,
      });
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
      expect(response.body).not.toContain('version');
    }
    const own = `http://127.0.0.1:${ragql.server.port}`;
    const allowed: Record<string, string>[] = [
      {},
      { origin: 'https://app.example.com' },
      { origin: own, 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
    ];
    for (const headers of allowed) {
      const response = await rawRequest(ragql.server.port, 'GET', path, {
        accept: 'application/json',
        host: `127.0.0.1:${ragql.server.port}`,
        ...headers,
      });
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({
        data: { serverInfo: { version: expect.any(String) } },
      });
    }
  });

  it('refuses a WebSocket from a page on a site CORS does not allow, and runs nothing', async () => {
    const socketFrom = (origin: string | undefined) =>
      class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, origin ? { origin } : {});
        }
      };
    const deleteOver = async (origin: string | undefined) => {
      const client = createClient({
        url: ragql.server.graphqlUrl.replace(/^http/, 'ws'),
        webSocketImpl: socketFrom(origin),
        retryAttempts: 0,
      });
      try {
        return await collect(
          client.iterate({ query: 'mutation { deleteDocument(id: "kept") { deleted } }' }),
        );
      } finally {
        await client.dispose();
      }
    };
    await expect(deleteOver('https://evil.example')).rejects.toBeDefined();
    expect(await count()).toEqual(['kept']);
    await expect(deleteOver('https://app.example.com')).resolves.toEqual([
      { data: { deleteDocument: { deleted: true } } },
    ]);
    expect(await count()).toEqual([]);
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
  const ragql = useRagql();

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

/**
 * What the HTTP server exposes and accepts, as operators configure it: introspection, GraphiQL,
 * CORS origins, and the largest request body (HTTP) or message (WebSocket).
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useRagql } from '../support/use-ragql.ts';

const introspection = JSON.stringify({ query: '{ __schema { queryType { name } } }' });

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('a server as it starts by default', () => {
  const ragql = useRagql();

  it('answers introspection, serves GraphiQL to browsers and allows any origin', async () => {
    const introspected = (await (await post(ragql.server.graphqlUrl, introspection)).json()) as {
      data?: { __schema: { queryType: { name: string } } };
    };
    expect(introspected.data?.__schema.queryType.name).toBe('Query');
    const page = await fetch(ragql.server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).toMatch(/graphiql/i);
    const preflight = await fetch(ragql.server.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toMatch(
      /^(\*|https:\/\/anywhere\.example)$/,
    );
  });
});

describe('a server locked down for production', () => {
  const ragql = useRagql({
    RAGQL_INTROSPECTION: 'off',
    RAGQL_GRAPHIQL: 'off',
    RAGQL_CORS_ORIGINS: 'https://app.example.com,http://localhost:3000',
    RAGQL_MAX_DOCUMENT_BYTES: '1000',
    RAGQL_MAX_BODY_BYTES: '20000',
  });

  it('refuses introspection with GRAPHQL_VALIDATION_FAILED, and still answers __typename', async () => {
    const refused = (await (await post(ragql.server.graphqlUrl, introspection)).json()) as {
      errors: { extensions: { code: string } }[];
    };
    expect(refused.errors[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const typename = (await (await post(ragql.server.graphqlUrl, '{"query":"{ __typename }"}')).json()) as {
      data: { __typename: string };
    };
    expect(typename.data.__typename).toBe('Query');
  });

  it('serves no GraphiQL page', async () => {
    const page = await fetch(ragql.server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });

  it('allows the configured origins only', async () => {
    const preflight = (origin: string) =>
      fetch(ragql.server.graphqlUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('refuses a body over the limit with 413, and keeps serving', async () => {
    const body = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(30_000)}` });
    const response = await post(ragql.server.graphqlUrl, body);
    expect(response.status).toBe(413);
    expect(
      ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
    ).toBe('REQUEST_ENTITY_TOO_LARGE');
    expect((await post(ragql.server.graphqlUrl, '{"query":"{ __typename }"}')).status).toBe(200);
  });

  it('counts a chunked body without Content-Length as it streams in: 413 over the limit, served under it', async () => {
    const chunked = (parts: string[]) =>
      new Promise<number>((resolve, reject) => {
        const outgoing = httpRequest(
          ragql.server.graphqlUrl,
          { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        outgoing.on('error', reject);
        for (const part of parts) outgoing.write(part);
        outgoing.end();
      });
    const padding = Array.from({ length: 30 }, () => ` # ${'x'.repeat(1000)}\n`);
    expect(await chunked(['{"query":"{ __typename ', ...padding, '}"}'])).toBe(413);
    expect(await chunked(['{"query":', '"{ __typename }"}'])).toBe(200);
  });

  it('closes a WebSocket that sends a message over the limit with 1009', async () => {
    const socket = new WebSocket(ragql.server.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(30_000) } }));
    expect(await closed).toBe(1009);
  });
});

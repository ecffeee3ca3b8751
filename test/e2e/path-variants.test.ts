/**
 * The GraphQL route is /graphql exactly, on every transport. Yoga on its own serves GraphQL at any
 * URL ending with the endpoint (`/graphql/`, `//graphql`, `/x/graphql`), where authentication,
 * keyed on the path, did not look: such requests reached validation without a key (schema
 * probing) and came back as HTTP 200. Now a variant either is the same route (the query string,
 * resolved dot segments) and is authenticated identically, or is 404.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { rawRequest } from '../support/raw-http.ts';
import { useRagql } from '../support/use-ragql.ts';

const key = createApiKey();
const probe = JSON.stringify({ query: '{ secretField }' });

/** Paths that are the GraphQL route itself once parsed. */
const sameRoute = ['/graphql', '/graphql?x', '/graphql?', '/./graphql', '/%2e/graphql', '/x/../graphql'];
/** Paths Yoga would otherwise serve GraphQL at, or that look like it. */
const otherPaths = [
  '/graphql/',
  '//graphql',
  '///graphql',
  '/GraphQL',
  '/GRAPHQL',
  '/graphql//',
  '/x/graphql',
  '/%67raphql',
  '/graphql%2F',
  '/graphql%20',
  '/graphql.',
  '/graphql;x',
  '/?/graphql',
  '/healthz/graphql',
];

/** The status a WebSocket upgrade gets: 101 when it would be accepted. */
function upgradeStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'graphql-transport-ws',
      },
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('path variants of /graphql with authentication on', () => {
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, { apiKeys: [{ tenant: 'acme', tier: 'pro', hash: key.hash }] }),
    // `/?/graphql` is the answer page's path: here every path but GraphQL's must be 404.
    RAGQL_UI: 'off',
  }));

  const json = { 'content-type': 'application/json' };
  const eventStream = { ...json, accept: 'text/event-stream' };

  it('authenticates every path that is the route, over HTTP and SSE', async () => {
    for (const path of sameRoute) {
      for (const headers of [json, eventStream]) {
        const refused = await rawRequest(ragql.server.port, 'POST', path, headers, probe);
        expect({ path, status: refused.status }).toEqual({ path, status: 401 });
        expect(refused.body).not.toMatch(/secretField/);
      }
      const reservation = await rawRequest(ragql.server.port, 'PUT', path);
      expect({ path, status: reservation.status }).toEqual({ path, status: 401 });
      const served = await rawRequest(
        ragql.server.port,
        'POST',
        path,
        { ...json, authorization: `Bearer ${key.key}` },
        JSON.stringify({ query: '{ serverInfo { version } }' }),
      );
      expect({ path, status: served.status }).toEqual({ path, status: 200 });
    }
  });

  it('answers 404 on every other path, with a key or without, over HTTP and SSE', async () => {
    for (const path of otherPaths) {
      for (const headers of [json, eventStream, { ...json, authorization: `Bearer ${key.key}` }]) {
        for (const method of ['POST', 'GET', 'PUT']) {
          const response = await rawRequest(
            ragql.server.port,
            method,
            method === 'GET' ? `${path}${path.includes('?') ? '&' : '?'}query=%7BsecretField%7D` : path,
            headers,
            method === 'POST' ? probe : undefined,
          );
          expect({ path, method, status: response.status }).toEqual({ path, method, status: 404 });
          expect(response.body).not.toMatch(/secretField/);
        }
      }
    }
  });

  it('upgrades WebSockets only on the route itself', async () => {
    expect(await upgradeStatus(ragql.server.port, '/graphql')).toBe(101);
    expect(await upgradeStatus(ragql.server.port, '/graphql?x')).toBe(101);
    for (const path of otherPaths) {
      expect({ path, status: await upgradeStatus(ragql.server.port, path) }).not.toEqual({
        path,
        status: 101,
      });
    }
  });

  it('keeps /healthz and /readyz open', async () => {
    expect((await rawRequest(ragql.server.port, 'GET', '/healthz')).status).toBe(200);
    expect((await rawRequest(ragql.server.port, 'GET', '/readyz')).status).toBe(200);
  });
});

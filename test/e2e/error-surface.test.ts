/**
 * What a client sees of its own mistakes, over HTTP and over WebSocket: a typed code for each,
 * nothing of the request body echoed back, and no HTTP details on a WebSocket.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useRagql } from '../support/use-ragql.ts';

interface Payload {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

/** Every error a graphql-ws client gets for one operation: an `error` message's, or a result's. */
async function overWebSocket(graphqlUrl: string, payload: Payload): Promise<Record<string, unknown>[]> {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const settled = new Promise<Record<string, unknown>[]>((resolve) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as {
          type: string;
          payload?: unknown;
        };
        if (message.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload }));
        } else if (message.type === 'error') {
          resolve(message.payload as Record<string, unknown>[]);
        } else if (message.type === 'next') {
          resolve(((message.payload as { errors?: Record<string, unknown>[] }).errors ?? []) as never);
        }
      });
    });
    socket.send(JSON.stringify({ type: 'connection_init' }));
    return await settled;
  } finally {
    socket.close();
  }
}

async function overHttp(graphqlUrl: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, text: await response.text() };
}

describe('errors a client gets for its own mistakes', () => {
  const ragql = useRagql();

  const negativePages = [
    '{ documents(first: -1) { edges { cursor } } }',
    '{ documents(last: -1) { edges { cursor } } }',
    '{ documents(first: 2, last: -5) { edges { cursor } } }',
  ];

  it('refuses a negative page size with BAD_USER_INPUT, over HTTP and WebSocket', async () => {
    for (const query of negativePages) {
      const http = JSON.parse((await overHttp(ragql.server.graphqlUrl, JSON.stringify({ query }))).text) as {
        errors: { extensions: { code: string } }[];
      };
      expect({ query, codes: http.errors.map((error) => error.extensions.code) }).toEqual({
        query,
        codes: ['BAD_USER_INPUT'],
      });
      const webSocket = await overWebSocket(ragql.server.graphqlUrl, { query });
      expect(webSocket).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
    }
  });

  it('does not quote a malformed JSON body back', async () => {
    const secret = 'sk-private-fragment-of-the-body';
    for (const body of [`{"query": "{ x }", "extra": "${secret}`, `{"query": ${secret}}`, `${secret}`]) {
      const response = await overHttp(ragql.server.graphqlUrl, body);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
      expect(response.text).not.toContain(secret);
      expect(response.text).not.toContain('sk-private');
    }
  });

  it('sends no HTTP details over a WebSocket', async () => {
    for (const payload of [
      { query: '{ nope }' },
      { query: '{ serverInfo { vers' },
      { query: 'query ($n: Int) { documents(first: $n) { edges { cursor } } }', variables: { n: 'x' } },
      { query: '{ documents(first: 1000) { edges { node { chunks { content } } } } }' },
    ]) {
      const errors = await overWebSocket(ragql.server.graphqlUrl, payload);
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) {
        expect(error.extensions).toHaveProperty('code');
        expect(error.extensions).not.toHaveProperty('http');
      }
    }
  });

  it('names an unresolvable operation OPERATION_RESOLUTION_FAILURE on both transports', async () => {
    for (const payload of [
      { query: 'query A { serverInfo { version } } query B { serverInfo { version } }' },
      { query: 'query A { serverInfo { version } }', operationName: 'Z' },
    ]) {
      const http = JSON.parse((await overHttp(ragql.server.graphqlUrl, JSON.stringify(payload))).text);
      expect(http).toMatchObject({ errors: [{ extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }] });
      const webSocket = await overWebSocket(ragql.server.graphqlUrl, payload);
      expect(webSocket).toMatchObject([{ extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }]);
      expect(webSocket[0]?.extensions).not.toHaveProperty('http');
    }
  });
});

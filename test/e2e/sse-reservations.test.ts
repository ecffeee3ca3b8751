/**
 * graphql-sse's single-connection mode reserves a stream with PUT and names it by token later.
 * A reservation belongs to the key that made it: another tenant's key cannot open it, send
 * operations on it or end them; ragql chooses tokens (random UUIDs), never the client; and each
 * reservation counts against the caller's requests per minute.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/gateway/api-keys.ts';
import { IngestDocumentsDocument } from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { type RagqlInstance, startRagql, temporaryDataDir } from '../support/ragql-instance.ts';

const acme = createApiKey();
const globex = createApiKey();
const tokenHeader = 'x-graphql-event-stream-token';
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('single-connection SSE reservations', () => {
  const dataDir = temporaryDataDir();
  let ragql: RagqlInstance;
  let url: string;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  async function reserve(key: string, headers: Record<string, string> = {}) {
    return fetch(url, { method: 'PUT', headers: { ...bearer(key), ...headers } });
  }

  beforeAll(async () => {
    const configFile = join(dataDir.path, 'ragql.config.mjs');
    writeFileSync(
      configFile,
      `export default ${JSON.stringify({
        apiKeys: [
          { tenant: 'acme', tier: 'pro', hash: acme.hash },
          { tenant: 'globex', tier: 'free', hash: globex.hash },
        ],
      })};\n`,
    );
    ragql = await startRagql(dataDir.path, { RAGQL_AUTH: 'on', RAGQL_CONFIG_FILE: configFile });
    url = ragql.server.graphqlUrl;
    dataOf(
      await graphqlClient(url, acme.key)(IngestDocumentsDocument, {
        documents: [{ id: 'plan', content: 'The rocket skates launch in spring.' }],
      }),
    );
  });
  afterAll(async () => {
    await ragql?.stop();
    dataDir.remove();
  });

  it('serves the real graphql-sse client in single-connection mode', async () => {
    const client = createClient({ url, singleConnection: true, headers: bearer(acme.key) });
    try {
      const results: unknown[] = [];
      for await (const result of client.iterate({ query: '{ document(id: "plan") { id } }' })) {
        results.push(result);
      }
      expect(results).toEqual([{ data: { document: { id: 'plan' } } }]);
    } finally {
      client.dispose();
    }
  });

  it('chooses a random UUID token for every reservation', async () => {
    const tokens = await Promise.all([1, 2, 3].map(async () => (await reserve(acme.key)).text()));
    for (const token of tokens) expect(token).toMatch(uuidV4);
    expect(new Set(tokens).size).toBe(3);
  });

  it('refuses a reservation that names its own token', async () => {
    const byHeader = await reserve(acme.key, { [tokenHeader]: 'chosen-by-the-client' });
    expect(byHeader.status).toBe(400);
    const byQuery = await fetch(`${url}?token=chosen-by-the-client`, {
      method: 'PUT',
      headers: bearer(acme.key),
    });
    expect(byQuery.status).toBe(400);
    // The token was not reserved: the client cannot use it either.
    const open = await fetch(`${url}?token=chosen-by-the-client`, {
      headers: { ...bearer(acme.key), accept: 'text/event-stream' },
    });
    expect(open.status).toBe(404);
    await open.body?.cancel();
  });

  it("keeps another tenant's key out of a reserved stream", async () => {
    const token = await (await reserve(acme.key)).text();
    const operation = JSON.stringify({
      query: '{ document(id: "plan") { id } }',
      extensions: { operationId: 'x' },
    });

    const intruderOpens = await fetch(`${url}?token=${token}`, {
      headers: { ...bearer(globex.key), accept: 'text/event-stream' },
    });
    expect(intruderOpens.status).toBe(404);
    await intruderOpens.body?.cancel();
    const intruderSends = await fetch(url, {
      method: 'POST',
      headers: { ...bearer(globex.key), [tokenHeader]: token, 'content-type': 'application/json' },
      body: operation,
    });
    expect(intruderSends.status).toBe(404);
    const intruderEnds = await fetch(`${url}?operationId=x`, {
      method: 'DELETE',
      headers: { ...bearer(globex.key), [tokenHeader]: token },
    });
    expect(intruderEnds.status).toBe(404);

    // The owner's stream is untouched: it opens and carries the owner's operation.
    const controller = new AbortController();
    const owner = await fetch(`${url}?token=${token}`, {
      headers: { ...bearer(acme.key), accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(owner.status).toBe(200);
    const reader = owner.body?.getReader();
    const sent = await fetch(url, {
      method: 'POST',
      headers: { ...bearer(acme.key), [tokenHeader]: token, 'content-type': 'application/json' },
      body: operation,
    });
    expect(sent.status).toBe(202);
    let received = '';
    while (reader && !received.includes('"plan"')) {
      const { value, done } = await reader.read();
      if (done) break;
      received += new TextDecoder().decode(value);
    }
    expect(received).toContain('"document":{"id":"plan"}');
    controller.abort();
  });

  it("counts reservations against the caller's requests per minute", async () => {
    // The free tier allows 60 requests a minute.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 61; attempt++) {
      const response = await reserve(globex.key);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses.slice(0, 60).every((status) => status === 201)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const refused = await reserve(globex.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});

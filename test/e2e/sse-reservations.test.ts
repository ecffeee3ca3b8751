/**
 * graphql-sse's single-connection mode reserves a stream with PUT and names it by token later.
 * A reservation belongs to the key that made it: another tenant's key cannot open it, send
 * operations on it or end them; ragql chooses tokens (random UUIDs), never the client; each
 * reservation counts against the caller's requests per minute, and a key has at most its tier's
 * concurrent streams in reservations not yet opened. A reservation never opened expires: its
 * stream is released, with the operations sent on it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'graphql-sse';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { IngestDocumentsDocument } from '../generated/graphql.ts';
import { writeConfigFile } from '../support/config-file.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const acme = createApiKey();
const globex = createApiKey();
const initech = createApiKey();
const tokenHeader = 'x-graphql-event-stream-token';
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('single-connection SSE reservations', () => {
  let url: string;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  async function reserve(key: string, headers: Record<string, string> = {}) {
    return fetch(url, { method: 'PUT', headers: { ...bearer(key), ...headers } });
  }
  function open(key: string, token: string, signal?: AbortSignal) {
    return fetch(`${url}?token=${token}`, {
      headers: { ...bearer(key), accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
  }

  const ragql = useRagql((dataDir) =>
    withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'acme', tier: 'pro', hash: acme.hash },
        { tenant: 'globex', tier: 'free', hash: globex.hash },
        { tenant: 'initech', tier: 'free', hash: initech.hash },
      ],
    }),
  );
  beforeAll(async () => {
    url = ragql.server.graphqlUrl;
    dataOf(
      await graphqlClient(url, acme.key)(IngestDocumentsDocument, {
        documents: [{ id: 'plan', content: 'The rocket skates launch in spring.' }],
      }),
    );
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

  it('serves the real graphql-sse client again after its stream closed', async () => {
    // In its default lazy mode the client closes its stream when its last operation completes,
    // and its next PUT carries the closed stream's token in the (reused) headers object.
    const client = createClient({ url, singleConnection: true, headers: bearer(acme.key), retryAttempts: 0 });
    try {
      for (const _stream of ['first', 'second']) {
        const results: unknown[] = [];
        for await (const result of client.iterate({ query: '{ document(id: "plan") { id } }' })) {
          results.push(result);
        }
        expect(results).toEqual([{ data: { document: { id: 'plan' } } }]);
      }
    } finally {
      client.dispose();
    }
  });

  it("delivers a refused operation's errors on its stream, with their codes", async () => {
    const client = createClient({ url, singleConnection: true, headers: bearer(acme.key), retryAttempts: 0 });
    try {
      const codes: unknown[] = [];
      for (const query of ['{ document(id: ', '{ nope }']) {
        for await (const result of client.iterate({ query })) {
          expect(result.data).toBeNull();
          // The POST that sent the operation was answered already: no HTTP status belongs here.
          expect(result.errors?.[0]?.extensions).not.toHaveProperty('http');
          codes.push(result.errors?.[0]?.extensions?.code);
        }
      }
      expect(codes).toEqual(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']);
    } finally {
      client.dispose();
    }
  });

  it('chooses a random UUID token for every reservation', async () => {
    const tokens = await Promise.all([1, 2, 3].map(async () => (await reserve(acme.key)).text()));
    for (const token of tokens) expect(token).toMatch(uuidV4);
    expect(new Set(tokens).size).toBe(3);
  });

  it('never reserves a token the client names', async () => {
    const byHeader = await reserve(acme.key, { [tokenHeader]: 'chosen-by-the-client' });
    const byQuery = await fetch(`${url}?token=chosen-by-the-client`, {
      method: 'PUT',
      headers: bearer(acme.key),
    });
    for (const response of [byHeader, byQuery]) {
      expect(response.status).toBe(201);
      expect(await response.text()).toMatch(uuidV4);
    }
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
    // The free tier allows 60 requests a minute: this reservation is one of them.
    const reserved = await reserve(globex.key);
    expect(reserved.status).toBe(201);
    await reserved.body?.cancel();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 60; attempt++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...bearer(globex.key), 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(59);
    // A key over its rate limit reserves nothing.
    const refused = await reserve(globex.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).errors[0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'requests',
    });
  });

  it("holds a key to its tier's concurrent streams in reservations not yet opened", async () => {
    // A PUT graphql-sse cannot answer (it serves text/plain) holds no slot.
    expect((await reserve(initech.key, { accept: 'application/json' })).status).toBe(406);
    // The free tier allows 2 concurrent streams.
    const first = await reserve(initech.key);
    const second = await reserve(initech.key);
    expect([first.status, second.status]).toEqual([201, 201]);
    const refused = await reserve(initech.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).errors[0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'reservedStreams',
    });
    // Other keys are not held to this one's reservations.
    expect((await reserve(acme.key)).status).toBe(201);

    // Opening a reservation frees its slot: the stream is no longer waiting.
    const controller = new AbortController();
    const opened = await open(initech.key, await first.text(), controller.signal);
    expect(opened.status).toBe(200);
    expect((await reserve(initech.key)).status).toBe(201);
    expect((await reserve(initech.key)).status).toBe(429);
    controller.abort();

    const metrics = await (await fetch(new URL('/metrics', url))).text();
    expect(metrics).toMatch(/^ragql_rate_limit_rejections_total\{tier="free",limit="reservedStreams"\} 2$/m);
  });

  it('forgets the token of a stream once it closes', async () => {
    const token = await (await reserve(acme.key)).text();
    const controller = new AbortController();
    const opened = await open(acme.key, token, controller.signal);
    expect(opened.status).toBe(200);
    controller.abort();
    await vi.waitFor(async () => {
      const reopened = await open(acme.key, token);
      await reopened.body?.cancel();
      expect(reopened.status).toBe(404);
    });
  });
});

describe('an SSE reservation never opened', () => {
  const idleMs = 300;
  const standin = useOpenAIStandin();
  let url: string;

  async function activeSubscriptions(): Promise<number> {
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    return Number(/^ragql_active_subscriptions (\S+)$/m.exec(metrics)?.[1]);
  }

  beforeAll(() => {
    // A slow model: an answer lasts 10 s unless ragql hangs up.
    standin.setDefaultChatScript({
      tokens: Array.from({ length: 400 }, (_, index) => ` word${index}`),
      tokenDelayMs: 25,
    });
  });
  const ragql = useRagql(
    (dataDir) => ({
      RAGQL_GENERATOR: 'openai',
      RAGQL_CHAT_MODEL: 'gpt-4o-mini',
      OPENAI_BASE_URL: standin.baseURL,
      // The anonymous caller's tier, with one concurrent stream: one reservation may wait.
      RAGQL_CONFIG_FILE: writeConfigFile(dataDir, {
        tiers: { enterprise: { ...defaultTiers.enterprise, concurrentStreams: 1 } },
      }),
    }),
    { sseReservationIdleMs: idleMs },
  );
  beforeAll(async () => {
    url = ragql.server.graphqlUrl;
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [{ id: 'plan', content: 'The rocket skates launch in spring.' }],
      }),
    );
  });

  it('expires: its stream is released, the operations sent on it end, and its token is unknown', async () => {
    const token = await (await fetch(url, { method: 'PUT' })).text();
    // The protocol lets a client send operations before it opens the stream; their results wait.
    const sent = await fetch(url, {
      method: 'POST',
      headers: { [tokenHeader]: token, 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'subscription { answerStream(question: "When do the rocket skates launch?") { __typename } }',
        extensions: { operationId: 'answer' },
      }),
    });
    expect(sent.status).toBe(202);
    await vi.waitFor(() => expect(standin.chatStreams).toHaveLength(1));
    const modelCall = standin.chatStreams[0];
    expect(await activeSubscriptions()).toBe(1);
    expect((await fetch(url, { method: 'PUT' })).status).toBe(429);

    // Nobody opens the stream: once it expires, the answer on it stops and the model is left.
    const closedAt = await Promise.race([modelCall?.closed, delay(idleMs + 2000).then(() => Number.NaN)]);
    expect(closedAt).not.toBeNaN();
    expect(modelCall?.closedEarly).toBe(true);
    await vi.waitFor(async () => expect(await activeSubscriptions()).toBe(0));
    const opened = await fetch(`${url}?token=${token}`, { headers: { accept: 'text/event-stream' } });
    await opened.body?.cancel();
    expect(opened.status).toBe(404);
    // Its slot is free again.
    expect((await fetch(url, { method: 'PUT' })).status).toBe(201);
  });
});

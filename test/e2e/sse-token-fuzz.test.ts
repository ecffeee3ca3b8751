/**
 * Reserved SSE streams, fuzzed: any sequence of reservations (PUT), opens (GET with the token),
 * operations (POST), cancels (DELETE) and disconnects by three keys, two of them the same
 * tenant's, with tokens of their own, of other keys, chosen by the client or guessed. A key never
 * opens, feeds or cancels a stream another key reserved (404), never receives another key's
 * events, never stops another key's operation, and never chooses a token.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { IngestDocumentsDocument } from '../generated/graphql.ts';
import { fuzzSeed } from '../support/arbitraries.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinChat } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const tokenHeader = 'x-graphql-event-stream-token';
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Each tenant's one document: what its answers quote, and what must never reach the other's keys. */
const tenants = {
  acme: {
    content: 'Acme rockets skate across the frozen lake.',
    quoted: 'Acme rockets',
    secret: /Acme|rockets/,
  },
  globex: {
    content: 'Globex harbours freeze every winter night.',
    quoted: 'Globex harbours',
    secret: /Globex|harbours/,
  },
};
type Tenant = keyof typeof tenants;
const keys = {
  acme: { key: createApiKey(), tenant: 'acme' as Tenant },
  acmeSecond: { key: createApiKey(), tenant: 'acme' as Tenant },
  globex: { key: createApiKey(), tenant: 'globex' as Tenant },
};
type Actor = keyof typeof keys;
const actors = Object.keys(keys) as Actor[];

/** Both documents match it, so each tenant's answer comes from its own document only. */
const question = 'Which rockets or harbours freeze?';
const operations = {
  answer: `subscription { answerStream(question: "${question}") { __typename ... on AnswerCompleted { text } } }`,
  document: '{ document(id: "plan") { chunks { content } } }',
};
type OperationKind = keyof typeof operations;

/** Which reservation an action names: one made in this run (by index, any key's), or a guess. */
const target = fc.oneof(
  { arbitrary: fc.nat().map((index) => ({ index })), weight: 6 },
  {
    arbitrary: fc
      .oneof(fc.uuid({ version: 4 }), fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/))
      .map((guess) => ({ guess })),
    weight: 1,
  },
);
const via = fc.constantFrom('header', 'query');
/** Who acts on a reservation: mostly its owner, else any key (the owner too, now and then). */
const actor = fc.oneof(
  { arbitrary: fc.constant('owner' as const), weight: 1 },
  { arbitrary: fc.constantFrom(...actors), weight: 1 },
);
const action = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('reserve' as const), actor: fc.constantFrom(...actors) }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('reserveNamed' as const), actor, target, via }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('open' as const), actor, target, via }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      actor,
      target,
      via,
      operation: fc.constantFrom(...(Object.keys(operations) as OperationKind[])),
    }),
    weight: 3,
  },
  {
    // Mostly the operation sent last, which is likely still streaming.
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      actor,
      target: fc.oneof(
        { arbitrary: fc.constant({ latest: true as const }), weight: 2 },
        { arbitrary: target, weight: 1 },
      ),
      via,
      operation: fc.oneof(
        { arbitrary: fc.constant('latest' as const), weight: 2 },
        { arbitrary: fc.nat(), weight: 1 },
      ),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('disconnect' as const), target: fc.nat() }), weight: 1 },
);

type Action = typeof action extends fc.Arbitrary<infer Step> ? Step : never;

/** One `event: next` or `event: complete` of a stream, as graphql-sse frames it. */
interface StreamEvent {
  event: string;
  id: string;
  payload?: { data?: Record<string, unknown> | null; errors?: unknown[] };
}

/** A GET that opened a stream, read until the client disconnects. */
interface OpenStream {
  events: StreamEvent[];
  disconnect(): void;
  ended: Promise<void>;
}

interface Reservation {
  token: string;
  owner: Actor;
  stream: OpenStream | null;
  disconnected: boolean;
  /** The owner's operations on it, by id; `cancelled` once the owner cancelled it. */
  operations: Map<string, { kind: OperationKind; cancelled: boolean }>;
}

function readEvents(response: Response, controller: AbortController): OpenStream {
  const events: StreamEvent[] = [];
  const ended = (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body ?? []) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (\w+)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, ...(JSON.parse(data) as Omit<StreamEvent, 'event'>) });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return { events, disconnect: () => controller.abort(), ended };
}

describe('reserved SSE streams, fuzzed', () => {
  const standin = useOpenAIStandin();
  let url: string;
  const bearer = (actor: Actor) => ({ authorization: `Bearer ${keys[actor].key.key}` });
  /** The token on the request, in the header graphql-sse's client sends or as EventSource's `?token=`. */
  const naming = (token: string, how: 'header' | 'query', search = '') => ({
    url:
      how === 'query'
        ? `${url}?token=${encodeURIComponent(token)}${search && `&${search}`}`
        : `${url}${search && `?${search}`}`,
    headers: how === 'header' ? { [tokenHeader]: token } : ({} as Record<string, string>),
  });

  beforeAll(() => {
    // Answers that last long enough for another key's cancel to arrive while they stream.
    standin.setDefaultChatScript({ tokenDelayMs: 15 });
  });
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      tiers: { fuzz: { requestsPerMinute: 100_000, concurrentStreams: 1000, tokensPerDay: 100_000_000 } },
      apiKeys: actors.map((actor) => ({
        tenant: keys[actor].tenant,
        tier: 'fuzz',
        hash: keys[actor].key.hash,
      })),
    }),
    RAGQL_ANSWER_CACHE: 'off',
    ...withStandinChat(standin),
  }));
  beforeAll(async () => {
    url = ragql.server.graphqlUrl;
    for (const tenant of Object.keys(tenants) as Tenant[]) {
      const actor = actors.find((candidate) => keys[candidate].tenant === tenant) as Actor;
      dataOf(
        await graphqlClient(url, keys[actor].key.key)(IngestDocumentsDocument, {
          documents: [{ id: 'plan', content: tenants[tenant].content }],
        }),
      );
    }
  });

  /** One run's reservations, and what the test knows of them. */
  interface Run {
    reservations: Reservation[];
    /** The reservation an operation was last sent on. */
    lastSent: number;
  }
  const tally = { refusedIntruders: 0, cancelledByIntruders: 0, completed: 0 };
  let nextOperation = 0;

  /**
   * The token an action names, who reserved it (nobody, for a guess) and who acts: `owner` is
   * whoever reserved it (a key of its own for a guess).
   */
  function resolve(run: Run, chosen: { index: number } | { guess: string }, as: Actor | 'owner') {
    const reservation =
      'guess' in chosen ? undefined : run.reservations[chosen.index % Math.max(1, run.reservations.length)];
    const token = 'guess' in chosen ? chosen.guess : (reservation?.token ?? randomUUID());
    const actor = as === 'owner' ? (reservation?.owner ?? 'acme') : as;
    return { token, reservation, actor };
  }

  /** Does what a step says and checks the answer: 404 for every key but the owner. */
  async function act(run: Run, step: Action): Promise<void> {
    const label = JSON.stringify(step);
    if (step.kind === 'reserve') {
      const response = await fetch(url, { method: 'PUT', headers: bearer(step.actor) });
      expect(response.status, label).toBe(201);
      const token = await response.text();
      expect(token, label).toMatch(uuidV4);
      expect(
        run.reservations.map((reservation) => reservation.token),
        label,
      ).not.toContain(token);
      run.reservations.push({
        token,
        owner: step.actor,
        stream: null,
        disconnected: false,
        operations: new Map(),
      });
      return;
    }
    if (step.kind === 'disconnect') {
      const reservation = run.reservations[step.target % Math.max(1, run.reservations.length)];
      if (reservation?.stream && !reservation.disconnected) {
        reservation.stream.disconnect();
        reservation.disconnected = true;
      }
      return;
    }
    const { token, reservation, actor } = resolve(
      run,
      'latest' in step.target ? { index: run.lastSent } : step.target,
      step.actor,
    );
    const intruder = reservation?.owner !== actor;
    if (step.kind === 'reserveNamed') {
      const named = naming(token, step.via);
      const response = await fetch(named.url, {
        method: 'PUT',
        headers: { ...bearer(actor), ...named.headers },
      });
      // The named token is never reserved: the client gets a fresh one of ragql's choosing.
      expect(response.status, label).toBe(201);
      const issued = await response.text();
      expect(issued, label).toMatch(uuidV4);
      expect(issued, label).not.toBe(token);
      run.reservations.push({
        token: issued,
        owner: actor,
        stream: null,
        disconnected: false,
        operations: new Map(),
      });
    } else if (step.kind === 'open') {
      const named = naming(token, step.via);
      const controller = new AbortController();
      const response = await fetch(named.url, {
        headers: { ...bearer(actor), ...named.headers, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (!intruder && reservation && !reservation.stream) {
        expect(response.status, label).toBe(200);
        reservation.stream = readEvents(response, controller);
        return;
      }
      await response.body?.cancel();
      if (intruder) {
        expect(response.status, label).toBe(404);
      } else if (!reservation?.disconnected) {
        // One stream per token: never a second reader of it.
        expect(response.status, label).toBe(409);
      } else {
        // Gone with its connection.
        expect(response.status, label).not.toBe(200);
        expect(response.status, label).toBeLessThan(500);
      }
    } else if (step.kind === 'send') {
      const id = `${actor}-${nextOperation++}`;
      const named = naming(token, step.via);
      const response = await fetch(named.url, {
        method: 'POST',
        headers: { ...bearer(actor), ...named.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ query: operations[step.operation], extensions: { operationId: id } }),
      });
      await response.body?.cancel();
      if (intruder) {
        expect(response.status, label).toBe(404);
      } else if (reservation?.disconnected) {
        expect(response.status, label).toBeLessThan(500);
      } else if (reservation) {
        expect(response.status, label).toBe(202);
        reservation.operations.set(id, { kind: step.operation, cancelled: false });
        run.lastSent = run.reservations.indexOf(reservation);
      }
    } else {
      // Another key's operation ids are no secret: a guess may name any of them.
      const ids = [...(reservation?.operations.keys() ?? [])];
      const id =
        (step.operation === 'latest' ? ids.at(-1) : ids[step.operation % Math.max(1, ids.length)]) ??
        `${actor}-unknown`;
      const named = naming(token, step.via, `operationId=${id}`);
      const response = await fetch(named.url, {
        method: 'DELETE',
        headers: { ...bearer(actor), ...named.headers },
      });
      await response.body?.cancel();
      if (intruder) {
        expect(response.status, label).toBe(404);
        if (reservation?.operations.has(id)) tally.cancelledByIntruders++;
      } else if (reservation?.disconnected) {
        expect(response.status, label).toBeLessThan(500);
      } else if (reservation) {
        expect(response.status, label).toBe(200);
        const operation = reservation.operations.get(id);
        if (operation) operation.cancelled = true;
      }
    }
    if (intruder && reservation && step.kind !== 'reserveNamed') tally.refusedIntruders++;
  }

  /** The owners open what they reserved and never opened, and every operation still due ends. */
  async function finish(run: Run): Promise<void> {
    for (const reservation of run.reservations) {
      if (reservation.stream || reservation.operations.size === 0) continue;
      const controller = new AbortController();
      const response = await fetch(`${url}?token=${reservation.token}`, {
        headers: { ...bearer(reservation.owner), accept: 'text/event-stream' },
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      reservation.stream = readEvents(response, controller);
    }
    const unfinished = () =>
      run.reservations
        .filter((reservation) => !reservation.disconnected)
        .flatMap((reservation) =>
          [...reservation.operations]
            .filter(([, operation]) => !operation.cancelled)
            .map(([id]) => id)
            .filter(
              (id) =>
                !reservation.stream?.events.some((event) => event.event === 'complete' && event.id === id),
            ),
        );
    const deadline = Date.now() + 5000;
    while (unfinished().length > 0 && Date.now() < deadline) await sleep(10);
    expect(unfinished()).toEqual([]);
  }

  /**
   * Each stream carried only its owner's operations on it, with only its tenant's text; each
   * operation its owner did not cancel ended with its result (an answer that another key stopped
   * would end after a token, without AnswerCompleted).
   */
  function expectOwnersResultsOnly(run: Run): void {
    for (const reservation of run.reservations) {
      const { tenant } = keys[reservation.owner];
      const others = (Object.keys(tenants) as Tenant[]).filter((other) => other !== tenant);
      const events = reservation.stream?.events ?? [];
      for (const event of events) {
        const label = JSON.stringify({ owner: reservation.owner, event });
        expect(reservation.operations.has(event.id), label).toBe(true);
        for (const other of others) expect(JSON.stringify(event), label).not.toMatch(tenants[other].secret);
      }
      if (reservation.disconnected) continue;
      for (const [id, operation] of reservation.operations) {
        if (operation.cancelled) continue;
        const results = events.filter((event) => event.event === 'next' && event.id === id);
        const last = results.at(-1)?.payload;
        const label = JSON.stringify({ owner: reservation.owner, id, results });
        expect(last?.errors, label).toBeUndefined();
        if (operation.kind === 'answer') {
          expect(last?.data?.answerStream, label).toMatchObject({ __typename: 'AnswerCompleted' });
        }
        expect(JSON.stringify(last?.data), label).toContain(tenants[tenant].quoted);
        tally.completed++;
      }
    }
  }

  it("never lets a key open, feed or cancel another key's stream, nor choose a token", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 24, size: 'max' }), async (actions) => {
        const run: Run = { reservations: [], lastSent: 0 };
        try {
          for (const step of actions) await act(run, step);
          await finish(run);
          expectOwnersResultsOnly(run);
        } finally {
          for (const reservation of run.reservations) reservation.stream?.disconnect();
          await Promise.all(run.reservations.map((reservation) => reservation.stream?.ended));
        }
      }),
      { numRuns: 60, seed: fuzzSeed },
    );
    // The attacks were made, and owners' operations completed through them.
    expect(tally.refusedIntruders, JSON.stringify(tally)).toBeGreaterThan(0);
    expect(tally.cancelledByIntruders, JSON.stringify(tally)).toBeGreaterThan(0);
    expect(tally.completed, JSON.stringify(tally)).toBeGreaterThan(0);
  });
});

/**
 * The daily token budget is enforced, not just checked: every answer reserves its most tokens
 * (prompt + longest answer) atomically before the model is asked, so concurrent answers cannot
 * together spend more than the budget, in memory and across Redis. A spent budget is refused with
 * HTTP 429 and Retry-After until 00:00 UTC, and counted.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { IngestDocumentsDocument, UsageDocument } from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinChat } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const machineRedis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const tokensPerDay = 300;
const concurrentRequests = 10;
const answersPerRequest = 15;

/** One operation asking the same question under `count` aliases: every field is an answer. */
const aliasedAnswers = (count: number) =>
  `{ ${Array.from(
    { length: count },
    (_, index) => `a${index}: answer(question: "What pulls the tides?") { usage { totalTokens } }`,
  ).join(' ')} }`;

interface AnswersResponse {
  status: number;
  retryAfter: string | null;
  body: {
    data?: Record<string, { usage: { totalTokens: number } } | null> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(url: string, key: string, query: string): Promise<AnswersResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as AnswersResponse['body'],
  };
}

function secondsUntilUtcMidnight(): number {
  const now = new Date();
  return (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000;
}

describe.each([
  { store: 'in memory', redis: false },
  { store: 'in Redis', redis: true },
])('the daily token budget, counted $store', ({ redis }) => {
  const standin = useOpenAIStandin();
  // A fresh key (and with it a fresh budget key in Redis) and tenant per run.
  const key = createApiKey();
  const tenant = `budget-${randomUUID().slice(0, 8)}`;

  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      tiers: {
        budgeted: { requestsPerMinute: 1000, tokensPerDay, concurrentStreams: 5, maxQueryCost: 100_000 },
      },
      apiKeys: [{ tenant, tier: 'budgeted', hash: key.hash }],
    }),
    ...(redis ? { REDIS_URL: machineRedis } : {}),
    RAGQL_ANSWER_CACHE: 'off',
    ...withStandinChat(standin),
  }));
  beforeAll(async () => {
    dataOf(
      await graphqlClient(ragql.server.graphqlUrl, key.key)(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon and the sun pull the tides.' }],
      }),
    );
  });

  it(`spends no more than ${tokensPerDay} tokens and one answer over them, whatever the concurrency`, async () => {
    const responses = await Promise.all(
      Array.from({ length: concurrentRequests }, () =>
        post(ragql.server.graphqlUrl, key.key, aliasedAnswers(answersPerRequest)),
      ),
    );
    // An answer field is non-null: one refused field voids its operation's data, so what was
    // spent is read from the tenant's usage, where every answer the model wrote is recorded.
    const { usage } = dataOf(await graphqlClient(ragql.server.graphqlUrl, key.key)(UsageDocument, {}));
    const today = usage.at(-1);
    const answered = today?.answers ?? 0;
    const spent = today?.totalTokens ?? 0;
    console.info(
      `${concurrentRequests} x ${answersPerRequest} aliased answers ${redis ? '(Redis)' : '(memory)'}: ${answered} answered, ${spent} tokens spent against ${tokensPerDay}`,
    );
    expect(answered).toBeGreaterThan(0);
    expect(standin.chatStreams.length).toBe(answered);
    // Far more answers were asked for than the budget pays for; each operation with a field
    // refused says why (its other refused fields' errors go with its voided data).
    expect(answered).toBeLessThan(concurrentRequests * answersPerRequest);
    const refusals = responses.flatMap((response) => response.body.errors ?? []);
    expect(refusals.length).toBeGreaterThanOrEqual(
      responses.filter((response) => !response.body.data).length,
    );
    expect(new Set(refusals.map((error) => error.extensions?.code))).toEqual(new Set(['RATE_LIMITED']));
    // Every answer has the same prompt and reply, so the same tokens. The reservation that
    // crosses the limit runs (else no answer bigger than what is left ever could), so the day
    // may end over by that one answer, and by no other: before it, the budget had room.
    const perAnswer = spent / answered;
    expect(spent - perAnswer).toBeLessThan(tokensPerDay);
  });

  it('refuses a spent budget with 429 and Retry-After until 00:00 UTC, and counts the refusal', async () => {
    // Concurrent answers are refused while others hold reservations, so the scenario above may
    // leave tokens; one answer at a time spends them (about 80 an answer).
    let refused = await post(ragql.server.graphqlUrl, key.key, aliasedAnswers(1));
    for (let attempt = 0; attempt < 5 && refused.status === 200; attempt++) {
      expect(refused.body.errors).toBeUndefined();
      refused = await post(ragql.server.graphqlUrl, key.key, aliasedAnswers(1));
    }
    expect(refused.status).toBe(429);
    const [error] = refused.body.errors ?? [];
    expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'tokens' });
    expect(error?.extensions).not.toHaveProperty('http');
    const retryAfter = Number(refused.retryAfter);
    expect(retryAfter).toBe(error?.extensions?.retryAfter);
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(secondsUntilUtcMidnight()) - 5);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(secondsUntilUtcMidnight()) + 1);
    const metrics = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
    const counted = metrics.match(
      /ragql_rate_limit_rejections_total\{tier="budgeted",limit="tokens"\} (\d+)/,
    );
    // Every refused answer of the scenario above, and this one.
    expect(Number(counted?.[1])).toBeGreaterThan(1);
  });
});

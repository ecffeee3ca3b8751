/**
 * The chat side of the gateway over GraphQL: routing by rule and tier, an explicit model, retries,
 * fallback chains before and after the first token (AnswerRestarted), per-tenant usage by day in
 * the real Redis, and the LLM metrics. Models are the real openai SDK against the stand-in.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import {
  AnswerDocument,
  AnswerStreamDocument,
  IngestDocumentsDocument,
  UsageDocument,
} from '../generated/graphql.ts';
import { answerStreamEvents } from '../support/answer-stream-events.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinGateway } from '../support/ragql-environment.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const free = createApiKey();
const pro = createApiKey();
// Usage lives in the machine's Redis, which outlives test runs: tenants of this run only.
const freeTenant = `free_${randomUUID().slice(0, 8)}`;
const proTenant = `pro_${randomUUID().slice(0, 8)}`;
const pricing = {
  'gpt-4o-mini': { inputUsdPerMillion: 1, outputUsdPerMillion: 2 },
  'gpt-4o': { inputUsdPerMillion: 5, outputUsdPerMillion: 10 },
};
const longQuestion =
  'Could you please explain in some detail what exactly it is that pulls the tides of the sea twice every day?';

describe('the chat gateway over GraphQL', () => {
  const standin = useOpenAIStandin();
  const as = (key: string) => graphqlClient(ragql.server.graphqlUrl, key);
  /** The model each chat request named, from the stand-in's record. */
  const modelsAsked = (since: number) =>
    standin.chatStreams.slice(since).map((stream) => stream.body.model as string);

  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant: freeTenant, tier: 'free', hash: free.hash },
        { tenant: proTenant, tier: 'pro', hash: pro.hash },
      ],
      models: [{ provider: 'openai', model: 'gpt-4o' }],
      pricing,
      routing: [{ name: 'long questions', minQuestionTokens: 15, model: 'gpt-4o' }],
      tiers: {
        free: { ...defaultTiers.free, models: ['gpt-4o-mini', 'extractive'] },
        pro: { ...defaultTiers.pro, fallbacks: ['gpt-4o', 'extractive'] },
      },
    }),
    ...withStandinGateway(standin),
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'standin-embedding',
    RAGQL_EMBEDDING_DIMENSIONS: '32',
  }));
  beforeAll(async () => {
    // A sentence of this run's own, so that the embedding cache in Redis cannot know the chunk.
    const content = `The moon pulls the tides twice a day. The sea rises and falls. Run ${freeTenant}.`;
    const documents = [{ id: 'tides', content }];
    for (const key of [free.key, pro.key]) dataOf(await as(key)(IngestDocumentsDocument, { documents }));
  });

  it('routes a short question to the default model and a long one by rule, within the tier', async () => {
    const before = standin.chatStreams.length;
    const short = dataOf(await as(pro.key)(AnswerDocument, { question: 'What pulls the tides?' })).answer;
    const long = dataOf(await as(pro.key)(AnswerDocument, { question: longQuestion })).answer;
    const longOnFree = dataOf(await as(free.key)(AnswerDocument, { question: longQuestion })).answer;

    expect(short.routing).toEqual({ model: 'gpt-4o-mini', reason: 'default model', fallbacks: [] });
    expect(long.routing).toEqual({ model: 'gpt-4o', reason: "rule 'long questions'", fallbacks: [] });
    // The free tier may not use gpt-4o: the rule does not apply to it.
    expect(longOnFree.routing.model).toBe('gpt-4o-mini');
    expect(modelsAsked(before)).toEqual(['gpt-4o-mini', 'gpt-4o', 'gpt-4o-mini']);
    expect(long.model).toBe('gpt-4o');
  });

  it('takes an explicit model within the tier, and refuses one outside it, naming those allowed', async () => {
    const chosen = dataOf(
      await as(pro.key)(AnswerDocument, { question: 'What pulls the tides?', model: 'gpt-4o' }),
    ).answer;
    expect(chosen.routing).toMatchObject({ model: 'gpt-4o', reason: 'requested by the client' });

    const refused = await as(free.key)(AnswerDocument, {
      question: 'What pulls the tides?',
      model: 'gpt-4o',
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      allowedModels: ['gpt-4o-mini', 'extractive'],
    });
  });

  it('retries a rate-limited model and answers from it, with no fallback', async () => {
    standin.failNext(429, undefined, { 'retry-after': '0' });
    const answer = dataOf(await as(pro.key)(AnswerDocument, { question: 'What pulls the tides?' })).answer;
    expect(answer.routing).toEqual({ model: 'gpt-4o-mini', reason: 'default model', fallbacks: [] });
  });

  it('falls back along the tier chain when a model keeps failing before its first token', async () => {
    for (let attempt = 0; attempt < 3; attempt++) standin.failNext(500);
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl, pro.key);
    try {
      const results = await collect(
        client.subscribe(AnswerStreamDocument, { question: 'What pulls the tides?' }),
      );
      const events = answerStreamEvents(results);
      // Invisible to the stream, except in routing.
      expect(events.map((event) => event.__typename)).not.toContain('AnswerRestarted');
      const completed = events.at(-1);
      expect(completed?.__typename).toBe('AnswerCompleted');
      if (completed?.__typename !== 'AnswerCompleted') return;
      expect(completed.routing).toEqual({
        model: 'gpt-4o',
        reason: 'default model',
        fallbacks: [
          { from: 'gpt-4o-mini', to: 'gpt-4o', reason: expect.stringMatching(/HTTP 500/), afterTokens: 0 },
        ],
      });
    } finally {
      await client.dispose();
    }
  });

  it('restarts the stream on the fallback model when the first fails after sending tokens', async () => {
    standin.scriptNextChat({
      reply: 'Partial words that will be void',
      failAfterTokens: { count: 3, kind: 'reset' },
      tokenDelayMs: 20,
    });
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl, pro.key);
    try {
      const results = await collect(
        client.subscribe(AnswerStreamDocument, { question: 'What pulls the tides?' }),
      );
      const events = answerStreamEvents(results);
      const restart = events.findIndex((event) => event.__typename === 'AnswerRestarted');
      expect(events.slice(1, restart).map((event) => event.__typename)).toEqual([
        'AnswerToken',
        'AnswerToken',
        'AnswerToken',
      ]);
      expect(events[restart]).toMatchObject({ model: 'gpt-4o', reason: expect.stringMatching(/mid-stream/) });
      const after = events.slice(restart + 1, -1);
      expect(after.map((event) => (event.__typename === 'AnswerToken' ? event.index : -1))).toEqual(
        after.map((_event, index) => index),
      );
      const completed = events.at(-1);
      if (completed?.__typename !== 'AnswerCompleted') throw new Error('no AnswerCompleted');
      // The answer is the fallback's alone: nothing of the void tokens.
      expect(completed.text).toBe(
        after.map((event) => (event.__typename === 'AnswerToken' ? event.text : '')).join(''),
      );
      expect(completed.text).not.toContain('Partial');
      expect(completed.routing.fallbacks).toEqual([
        { from: 'gpt-4o-mini', to: 'gpt-4o', reason: expect.any(String), afterTokens: 3 },
      ]);
    } finally {
      await client.dispose();
    }
  });

  it("reports each tenant's tokens and cost for the day, priced from the config, to that tenant only", async () => {
    const questions = ['What pulls the tides?', 'What does the sea do?'];
    const answers = [];
    for (const question of questions) {
      answers.push(dataOf(await as(free.key)(AnswerDocument, { question })).answer);
    }
    const { usage } = dataOf(await as(free.key)(UsageDocument, {}));
    const today = usage.at(-1);
    expect(today?.date).toBe(new Date().toISOString().slice(0, 10));
    const mini = today?.models.find((model) => model.model === 'gpt-4o-mini');
    // The first test asked one free question too.
    expect(mini?.answers).toBe(answers.length + 1);
    for (const answer of answers) {
      const { promptTokens, completionTokens, costUsd } = answer.usage;
      expect(costUsd).toBeCloseTo((promptTokens * 1 + completionTokens * 2) / 1e6, 12);
    }
    const totals = answers.reduce((sum, answer) => sum + answer.usage.totalTokens, 0);
    expect(mini?.totalTokens).toBeGreaterThan(totals);
    expect(today?.costUsd).toBeCloseTo(mini?.costUsd ?? Number.NaN, 12);

    const proUsage = dataOf(await as(pro.key)(UsageDocument, {})).usage;
    expect(
      proUsage
        .at(-1)
        ?.models.map((model) => model.model)
        .sort(),
    ).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(proUsage.at(-1)?.answers).not.toBe(today?.answers);

    const bad = await as(free.key)(UsageDocument, { from: '2026-02-30' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('exposes provider requests, retries, fallbacks, time to first token, tokens and cost in /metrics', async () => {
    const text = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
    const value = (series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('ragql_llm_requests_total{provider="openai",model="gpt-4o-mini",status="500"}')).toBe(3);
    expect(value('ragql_llm_requests_total{provider="openai",model="gpt-4o-mini",status="429"}')).toBe(1);
    expect(
      value('ragql_llm_requests_total{provider="openai",model="gpt-4o",status="ok"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(value('ragql_llm_retries_total{provider="openai",model="gpt-4o-mini"}')).toBe(3);
    expect(value('ragql_llm_fallbacks_total{from="gpt-4o-mini",to="gpt-4o"}')).toBe(2);
    expect(
      value('ragql_llm_time_to_first_token_seconds_count{provider="openai",model="gpt-4o-mini"}'),
    ).toBeGreaterThan(0);
    expect(
      value('ragql_llm_tokens_total{model="gpt-4o-mini",tier="free",kind="completion"}'),
    ).toBeGreaterThan(0);
    expect(value('ragql_llm_cost_usd_total{model="gpt-4o"}')).toBeGreaterThan(0);
    expect(
      value('ragql_embedding_requests_total{provider="openai",model="standin-embedding",status="ok"}'),
    ).toBeGreaterThan(0);
  });
});

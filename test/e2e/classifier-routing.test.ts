/**
 * Routing by a classifier over GraphQL: a tier's cheap model labels the question and the label's
 * model answers, the label's call counted in the tenant's usage and cost, asked once per question,
 * and skipped for the default route when it does not answer in time; rules come first; a tier
 * without a classifier model routes by the heuristic. Models are the real openai SDK against the
 * stand-in, which records which model each chat request named.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { AnswerDocument, IngestDocumentsDocument, UsageDocument } from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinGateway } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const labelled = createApiKey();
const heuristic = createApiKey();
// Usage lives in the machine's Redis, which outlives test runs: a tenant of this run only.
const tenant = `classified_${randomUUID().slice(0, 8)}`;
const classifierTimeoutMs = 400;

describe('routing by a classifier', () => {
  const standin = useOpenAIStandin();
  const as = (key: string) => graphqlClient(ragql.server.graphqlUrl, key);
  /** The model each chat request since `since` named. */
  const modelsAsked = (since: number) =>
    standin.chatStreams.slice(since).map((stream) => stream.body.model as string);
  const answer = async (key: string, question: string) =>
    dataOf(await as(key)(AnswerDocument, { question })).answer;

  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant, tier: 'pro', hash: labelled.hash },
        { tenant: `${tenant}_h`, tier: 'free', hash: heuristic.hash },
      ],
      models: [{ provider: 'openai', model: 'gpt-4o' }],
      pricing: {
        'gpt-4o-mini': { inputUsdPerMillion: 1, outputUsdPerMillion: 2 },
        'gpt-4o': { inputUsdPerMillion: 5, outputUsdPerMillion: 10 },
      },
      routing: [{ name: 'compare', pattern: '\\bcompare\\b', model: 'gpt-4o' }],
      classifier: {
        labels: { simple: 'gpt-4o-mini', medium: 'gpt-4o-mini', complex: 'gpt-4o' },
        timeoutMs: classifierTimeoutMs,
      },
      tiers: {
        pro: { ...defaultTiers.pro, classifierModel: 'gpt-4o-mini' },
        free: { ...defaultTiers.free },
      },
    }),
    // Every question here must reach the models.
    ...withStandinGateway(standin),
  }));
  beforeAll(async () => {
    const documents = [
      { id: 'tides', content: 'The moon pulls the tides twice a day. The sea rises and falls.' },
    ];
    for (const key of [labelled.key, heuristic.key])
      dataOf(await as(key)(IngestDocumentsDocument, { documents }));
  });

  it("routes by the label the tier's classifier model gives, its call in the tenant's usage and cost", async () => {
    const before = standin.chatStreams.length;
    standin.scriptNextChat({ reply: 'Complex.' });
    const routed = await answer(labelled.key, 'What pulls the tides?');
    expect(routed.routing).toMatchObject({ model: 'gpt-4o', reason: 'classifier: complex' });
    expect(modelsAsked(before)).toEqual(['gpt-4o-mini', 'gpt-4o']);
    const [classifierCall] = standin.chatStreams.slice(before);
    expect(JSON.stringify(classifierCall?.body.messages)).toContain('simple, medium, complex');

    const { usage } = dataOf(await as(labelled.key)(UsageDocument, {}));
    const mini = usage.at(-1)?.models.find((model) => model.model === 'gpt-4o-mini');
    expect(mini?.totalTokens).toBeGreaterThan(0);
    expect(mini?.costUsd).toBeCloseTo(
      ((mini?.promptTokens ?? 0) * 1 + (mini?.completionTokens ?? 0) * 2) / 1e6,
      12,
    );
    expect(mini?.costUsd).toBeGreaterThan(0);
    // The label is not an answer: the day counts the one answer gpt-4o wrote.
    expect(mini?.answers).toBe(0);
    expect(usage.at(-1)?.answers).toBe(1);
  });

  it('asks the classifier model once per question of a tenant', async () => {
    const before = standin.chatStreams.length;
    const again = await answer(labelled.key, 'What pulls the tides?');
    expect(again.routing).toMatchObject({ model: 'gpt-4o', reason: 'classifier: complex' });
    expect(modelsAsked(before)).toEqual(['gpt-4o']);
  });

  it('takes the default route when the classifier model does not answer in time', async () => {
    const before = standin.chatStreams.length;
    standin.scriptNextChat({ hang: 'before-headers' });
    const started = performance.now();
    const routed = await answer(labelled.key, 'When does the sea rise?');
    expect(performance.now() - started).toBeGreaterThanOrEqual(classifierTimeoutMs - 20);
    expect(routed.routing).toMatchObject({
      model: 'gpt-4o-mini',
      reason: 'classifier timed out: default model',
    });
    expect(modelsAsked(before)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    expect(standin.chatStreams[before]?.closedEarly).toBe(true);
  });

  it('lets a matching rule decide without asking the classifier', async () => {
    const before = standin.chatStreams.length;
    const routed = await answer(labelled.key, 'Compare the tides with the sea.');
    expect(routed.routing).toMatchObject({ model: 'gpt-4o', reason: "rule 'compare'" });
    expect(modelsAsked(before)).toEqual(['gpt-4o']);
  });

  it('labels with the heuristic where the tier names no classifier model, asking no model for it', async () => {
    const before = standin.chatStreams.length;
    const simple = await answer(heuristic.key, 'What pulls the tides?');
    expect(simple.routing).toMatchObject({ model: 'gpt-4o-mini', reason: 'heuristic classifier: simple' });
    const complex = await answer(
      heuristic.key,
      'Why do spring tides and neap tides differ, how do the Sun and the Moon each pull on the oceans, and what explains the delay between the Moon passing overhead and high water?',
    );
    expect(complex.routing).toMatchObject({ model: 'gpt-4o', reason: 'heuristic classifier: complex' });
    expect(modelsAsked(before)).toEqual(['gpt-4o-mini', 'gpt-4o']);
  });
});

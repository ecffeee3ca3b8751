/**
 * The gateway's resilience around chat models (cockatiel retries, first-token timeout, circuit
 * breaker per provider) and its fallback chain, driven through the real openai SDK against the
 * OpenAI stand-in.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.ts';
import { withFallbacks } from '../../src/gateway/fallback-chat-model.ts';
import {
  defaultResilience,
  ProviderCircuits,
  type ResilienceSettings,
  withResilience,
} from '../../src/gateway/resilient-chat-model.ts';
import type { ChatModel, ChatStreamPart } from '../../src/ports.ts';
import { createExtractiveModel } from '../../src/providers/extractive.ts';
import { createOpenAIChatModel } from '../../src/providers/openai-chat-model.ts';
import { buildGroundedMessages } from '../../src/rag/prompt.ts';
import { splitIntoTokens } from '../support/chat-script.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const sources = [
  { marker: 1, title: 'Tides', source: null, text: 'The moon pulls the tides twice a day. Seas rise.' },
];
const question = 'What pulls the tides?';
const request = () => ({
  messages: buildGroundedMessages(question, sources),
  grounding: { question, sources },
});
const expectedReply = 'The moon pulls the tides twice a day. [1]';

/** Fast settings, so that a test waits milliseconds rather than the production seconds. */
const settings: ResilienceSettings = {
  ...defaultResilience,
  initialDelayMs: 5,
  maxDelayMs: 2000,
  firstTokenTimeoutMs: 300,
  breakerThreshold: 100,
};

async function consume(stream: AsyncIterable<ChatStreamPart>) {
  const parts: ChatStreamPart[] = [];
  try {
    for await (const part of stream) parts.push(part);
    return { parts, error: undefined };
  } catch (error) {
    return { parts, error };
  }
}

const textOf = (parts: ChatStreamPart[]) =>
  parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');

describe('resilient chat models', () => {
  const standin = useOpenAIStandin();
  const chatRequests = () => standin.requests.filter((recorded) => recorded.path === '/v1/chat/completions');
  const providerModel = (modelId = 'gpt-4o-mini') =>
    createOpenAIChatModel({ apiKey: 'sk-test', baseURL: standin.baseURL, model: modelId });
  let retries: number;
  const resilient = (
    model: ChatModel,
    overrides: Partial<ResilienceSettings> = {},
    circuits?: ProviderCircuits,
  ) =>
    withResilience(
      model,
      circuits ?? new ProviderCircuits({ ...settings, ...overrides }),
      { ...settings, ...overrides },
      {
        onRetry: () => {
          retries += 1;
        },
      },
    );

  beforeEach(() => {
    standin.requests.length = 0;
    retries = 0;
  });

  it('retries a 429, waiting at least as long as its retry-after asks', async () => {
    standin.failNext(429, undefined, { 'retry-after': '1' });
    const { parts, error } = await consume(resilient(providerModel()).stream(request()));
    expect(error).toBeUndefined();
    expect(textOf(parts)).toBe(expectedReply);
    const [first, second] = chatRequests();
    expect(chatRequests()).toHaveLength(2);
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
    expect(retries).toBe(1);
  });

  it('leaves a provider that asks for a longer pause than maxDelayMs to the fallbacks', async () => {
    standin.failNext(429, undefined, { 'retry-after': '60' });
    const { error } = await consume(resilient(providerModel()).stream(request()));
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', failure: { status: 429, retryAfterMs: 60_000 } });
    expect(chatRequests()).toHaveLength(1);
  });

  it('retries a 500 as often as maxAttempts allows, then fails with the last status', async () => {
    for (let attempt = 0; attempt < 3; attempt++) standin.failNext(500);
    const { error } = await consume(resilient(providerModel(), { maxAttempts: 3 }).stream(request()));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ details: { status: 500 } });
    expect(chatRequests()).toHaveLength(3);
    expect(retries).toBe(2);
  });

  it('does not retry a request the provider refuses (HTTP 400)', async () => {
    standin.failNext(400);
    const { error } = await consume(resilient(providerModel()).stream(request()));
    expect(error).toMatchObject({ details: { status: 400 } });
    expect(chatRequests()).toHaveLength(1);
  });

  it('abandons an attempt with no first token within the timeout, closing it, and tries again', async () => {
    standin.scriptNextChat({ hang: 'after-headers' });
    const { parts, error } = await consume(resilient(providerModel()).stream(request()));
    expect(error).toBeUndefined();
    expect(textOf(parts)).toBe(expectedReply);
    expect(chatRequests()).toHaveLength(2);
    const [hung] = standin.chatStreams.slice(-2);
    await expect(hung?.closed).resolves.toBeTypeOf('number');
    expect(hung?.closedEarly).toBe(true);
  });

  it('does not retry once tokens have been sent: a retry would splice two answers', async () => {
    standin.scriptNextChat({
      reply: 'one two three four five',
      failAfterTokens: { count: 2, kind: 'reset' },
    });
    const { parts, error } = await consume(resilient(providerModel()).stream(request()));
    expect(textOf(parts)).toBe(splitIntoTokens('one two three four five').slice(0, 2).join(''));
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect(chatRequests()).toHaveLength(1);
  });

  it('opens the circuit of a failing provider for all its models, then lets a call through to test it', async () => {
    const circuits = new ProviderCircuits({ ...settings, breakerThreshold: 2, breakerHalfOpenAfterMs: 300 });
    const overrides = { maxAttempts: 1, breakerThreshold: 2, breakerHalfOpenAfterMs: 300 };
    const mini = resilient(providerModel('gpt-4o-mini'), overrides, circuits);
    const large = resilient(providerModel('gpt-4o'), overrides, circuits);
    standin.failNext(503);
    standin.failNext(503);
    await consume(mini.stream(request()));
    await consume(large.stream(request()));
    expect(chatRequests()).toHaveLength(2);

    const refused = await consume(mini.stream(request()));
    expect(refused.error).toMatchObject({
      code: 'UPSTREAM_FAILED',
      message: expect.stringMatching(/circuit/),
    });
    expect(chatRequests()).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 350));
    const tested = await consume(large.stream(request()));
    expect(tested.error).toBeUndefined();
    expect(textOf(tested.parts)).toBe(expectedReply);
    expect(chatRequests()).toHaveLength(3);
  });

  it('does not count callers who leave before the first token as failures of the provider', async () => {
    // Callers leave all the time (a closed answer stream, a refused request's plugin calls): were
    // that the provider's failure, any tenant could open its circuit for every other.
    const overrides = { maxAttempts: 1, breakerThreshold: 2 };
    const model = resilient(providerModel(), overrides);
    for (let leaving = 0; leaving < 3; leaving++) {
      standin.scriptNextChat({ hang: 'after-headers' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('the client left')), 50);
      const { error } = await consume(model.stream({ ...request(), signal: controller.signal }));
      expect(error).toMatchObject({ message: 'the client left' });
    }
    const { parts, error } = await consume(model.stream(request()));
    expect(error).toBeUndefined();
    expect(textOf(parts)).toBe(expectedReply);
    expect(chatRequests()).toHaveLength(4);
  });

  it('stops waiting between attempts the moment the caller leaves', async () => {
    standin.failNext(429, undefined, { 'retry-after': '1' });
    const controller = new AbortController();
    const stream = resilient(providerModel()).stream({ ...request(), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('the client left')), 100);
    const started = performance.now();
    const { error } = await consume(stream);
    expect(error).toMatchObject({ message: 'the client left' });
    expect(performance.now() - started).toBeLessThan(900);
    expect(chatRequests()).toHaveLength(1);
  });
});

describe('fallback chains', () => {
  const standin = useOpenAIStandin();

  const chain = () =>
    withFallbacks([
      createOpenAIChatModel({ apiKey: 'sk-test', baseURL: standin.baseURL, model: 'gpt-4o-mini' }),
      createExtractiveModel(),
    ]);

  it('answers from the next model when the first fails before its first token', async () => {
    standin.failNext(500);
    const { parts, error } = await consume(chain().stream(request()));
    expect(error).toBeUndefined();
    const [fallback] = parts.filter((part) => part.type === 'fallback');
    expect(fallback).toMatchObject({ failedAfterDeltas: 0, reason: expect.stringMatching(/HTTP 500/) });
    expect(fallback?.type === 'fallback' && fallback.to.modelId).toBe('extractive');
    expect(textOf(parts)).toMatch(/The moon pulls the tides twice a day\. \[1\]/);
  });

  it('says how many deltas the failed model had sent, before the next one starts over', async () => {
    standin.scriptNextChat({
      reply: 'one two three four five',
      failAfterTokens: { count: 3, kind: 'malformed' },
    });
    const { parts } = await consume(chain().stream(request()));
    const position = parts.findIndex((part) => part.type === 'fallback');
    expect(parts.slice(0, position).every((part) => part.type === 'text-delta')).toBe(true);
    expect(parts[position]).toMatchObject({ type: 'fallback', failedAfterDeltas: 3 });
    expect(textOf(parts.slice(position))).toMatch(/moon pulls the tides/);
    expect(parts.at(-1)?.type).toBe('finish');
  });

  it('takes the smallest context window of its models, as the prompt must fit each', () => {
    const small = { ...createExtractiveModel(), modelId: 'small', contextWindow: 4096 };
    expect(withFallbacks([createExtractiveModel(), small]).contextWindow).toBe(4096);
  });
});

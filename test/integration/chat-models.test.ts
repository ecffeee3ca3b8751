/**
 * The OpenAI and Cohere chat models, driven through the real SDKs against local stand-ins that
 * stream each API's wire protocol. Every scenario runs against both: behind the `ChatModel` port
 * they must behave the same.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RagqlError, UpstreamError } from '../../src/errors.ts';
import type { ChatModel, ChatRequest, ChatStreamPart, GroundingSource } from '../../src/ports.ts';
import { createCohereChatModel } from '../../src/providers/cohere-chat-model.ts';
import { createOpenAIChatModel } from '../../src/providers/openai-chat-model.ts';
import { buildGroundedMessages } from '../../src/rag/prompt.ts';
import { countTokens } from '../../src/text/token-count.ts';
import { type ChatFailureKind, type ChatStreamRecord, splitIntoTokens } from '../support/chat-script.ts';
import { startCohereStandin } from '../support/cohere-standin.ts';
import { type OpenAIStandin, startOpenAIStandin } from '../support/openai-standin.ts';

const sources: GroundingSource[] = [
  {
    marker: 1,
    title: 'Hybrid search',
    source: 'docs/search.md',
    text: 'Hybrid search blends keyword and vector scores into one ranking. Alpha weighs the two.',
  },
  { marker: 2, title: 'Chunking', source: null, text: 'Documents are split into chunks of 400 tokens.' },
];
const messages = buildGroundedMessages('How does hybrid search rank results?', sources);
/** What the stand-ins answer to `messages`: source [1]'s first sentence, cited. */
const expectedReply = 'Hybrid search blends keyword and vector scores into one ranking. [1]';
/** A reply long enough that an abort lands in the middle of it. */
const longReply = Array.from({ length: 30 }, (_, index) => `word${index}`).join(' ');

/** What the scenarios use of either stand-in. */
type ChatStandin = Omit<OpenAIStandin, 'baseURL'>;

interface ChatModelOverrides {
  model?: string;
  contextWindow?: number;
  idleTimeoutMs?: number;
}

interface StandinAndModel {
  standin: ChatStandin;
  /** The vendor's chat model pointed at the stand-in. */
  createModel(overrides?: ChatModelOverrides): ChatModel;
}

/** Starts a vendor's stand-in and pairs it with a factory for chat models that call it. */
function pairedWith<Standin extends ChatStandin>(
  start: () => Promise<Standin>,
  create: (standin: Standin, overrides: ChatModelOverrides) => ChatModel,
): () => Promise<StandinAndModel> {
  return async () => {
    const standin = await start();
    return { standin, createModel: (overrides = {}) => create(standin, overrides) };
  };
}

interface Vendor {
  name: string;
  provider: string;
  defaultModel: string;
  start(): Promise<StandinAndModel>;
  /** An error body in the vendor's shape, carrying `text`. */
  errorBody(text: string): unknown;
  /** What the request body says besides the messages, for a request with maxOutputTokens 100. */
  expectedRequest: Record<string, unknown>;
}

const vendors: Vendor[] = [
  {
    name: 'OpenAI',
    provider: 'openai',
    defaultModel: 'gpt-4o-mini',
    start: pairedWith(startOpenAIStandin, (standin, overrides) =>
      createOpenAIChatModel({ apiKey: 'sk-test', baseURL: standin.baseURL, ...overrides }),
    ),
    errorBody: (text) => ({ error: { message: text, type: 'server_error', param: null, code: null } }),
    expectedRequest: {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 100,
    },
  },
  {
    name: 'Cohere',
    provider: 'cohere',
    defaultModel: 'command-r-08-2024',
    start: pairedWith(startCohereStandin, (standin, overrides) =>
      createCohereChatModel({ token: 'co-test', baseUrl: standin.baseUrl, ...overrides }),
    ),
    errorBody: (text) => ({ message: text }),
    expectedRequest: { model: 'command-r-08-2024', stream: true, max_tokens: 100 },
  },
];

interface Outcome {
  parts: ChatStreamPart[];
  /** Arrival time (performance.now()) of each part. */
  arrivals: number[];
  /** What the stream threw; undefined when it finished. */
  error: unknown;
}

/** Reads a stream to its end or its error, timing each part. */
async function consume(
  stream: AsyncIterable<ChatStreamPart>,
  onPart: (part: ChatStreamPart, index: number) => void = () => {},
): Promise<Outcome> {
  const outcome: Outcome = { parts: [], arrivals: [], error: undefined };
  try {
    for await (const part of stream) {
      outcome.parts.push(part);
      outcome.arrivals.push(performance.now());
      onPart(part, outcome.parts.length - 1);
    }
  } catch (error) {
    outcome.error = error;
  }
  return outcome;
}

const deltasOf = (parts: ChatStreamPart[]) =>
  parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : []));
const finishesOf = (parts: ChatStreamPart[]) => parts.filter((part) => part.type === 'finish');

function onlyStream(standin: ChatStandin): ChatStreamRecord {
  expect(standin.chatStreams).toHaveLength(1);
  return standin.chatStreams[0] as ChatStreamRecord;
}

describe.each(vendors.map((vendor) => [vendor.name, vendor] as const))('%s chat model', (_name, vendor) => {
  let standin: ChatStandin;
  let createModel: (overrides?: ChatModelOverrides) => ChatModel;
  beforeEach(async () => {
    ({ standin, createModel } = await vendor.start());
  });
  afterEach(() => standin.close());

  const request = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({ messages, ...overrides });

  it('states its provider, model, context window and price, from the catalog by default', () => {
    expect(createModel()).toMatchObject({
      specificationVersion: 'v1',
      provider: vendor.provider,
      modelId: vendor.defaultModel,
      contextWindow: 128_000,
      pricing: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6 },
    });
    expect(createModel({ model: 'mystery-model' })).toMatchObject({
      modelId: 'mystery-model',
      contextWindow: 8192,
      pricing: null,
    });
    expect(createModel({ contextWindow: 32_000 }).contextWindow).toBe(32_000);
  });

  it('streams the reply token by token, in order, then one finish', async () => {
    const { parts, error } = await consume(createModel().stream(request()));
    expect(error).toBeUndefined();
    expect(deltasOf(parts)).toEqual(splitIntoTokens(expectedReply));
    expect(deltasOf(parts).join('')).toBe(expectedReply);
    expect(finishesOf(parts)).toHaveLength(1);
    expect(parts.at(-1)?.type).toBe('finish');
    const record = onlyStream(standin);
    await record.closed;
    expect(record).toMatchObject({ completed: true, closedEarly: false });
  });

  it('sends the model, the messages as given, streaming and the output limit', async () => {
    await consume(createModel().stream(request({ maxOutputTokens: 100 })));
    const { body } = onlyStream(standin);
    expect(body).toMatchObject(vendor.expectedRequest);
    expect(body.messages).toEqual(messages.map(({ role, content }) => ({ role, content })));
  });

  it('reports the usage the server reported', async () => {
    const { parts } = await consume(createModel().stream(request()));
    const record = onlyStream(standin);
    expect(record.tokensSent).toBe(splitIntoTokens(expectedReply).length);
    expect(finishesOf(parts)[0]).toEqual({
      type: 'finish',
      usage: {
        promptTokens: record.promptTokens,
        completionTokens: record.tokensSent,
        totalTokens: record.promptTokens + record.tokensSent,
      },
    });
  });

  it('estimates the usage with cl100k_base when the server reports none', async () => {
    standin.scriptNextChat({ omitUsage: true });
    const { parts, error } = await consume(createModel().stream(request()));
    expect(error).toBeUndefined();
    const promptTokens = messages.reduce((sum, message) => sum + countTokens(message.content), 0);
    const completionTokens = countTokens(expectedReply);
    expect(finishesOf(parts)).toEqual([
      {
        type: 'finish',
        usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      },
    ]);
    // Words are not tokens: the estimate is not the stand-in's word count.
    expect(promptTokens).not.toBe(onlyStream(standin).promptTokens);
  });

  it('yields each token as its own delta when it arrives, without waiting for the rest', async () => {
    standin.scriptNextChat({ reply: 'one two three four', tokenDelayMs: 60 });
    const { parts, arrivals } = await consume(createModel().stream(request()));
    expect(deltasOf(parts)).toEqual(['one', ' two', ' three', ' four']);
    const gaps = arrivals.slice(1, 4).map((arrival, index) => arrival - (arrivals[index] ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThan(40);
  });

  it("stops on abort with the caller's reason, and the server sees the connection close at once", async () => {
    standin.scriptNextChat({ reply: longReply, tokenDelayMs: 40 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    let abortedAt = 0;
    const { parts, error } = await consume(
      createModel().stream(request({ signal: controller.signal })),
      (_part, index) => {
        if (index === 2) {
          abortedAt = performance.now();
          controller.abort(reason);
        }
      },
    );
    expect(error).toBe(reason);
    expect(parts).toHaveLength(3);
    const record = onlyStream(standin);
    expect((await record.closed) - abortedAt).toBeLessThan(1000);
    expect(record.closedEarly).toBe(true);
    const sentAtClose = record.tokensSent;
    expect(sentAtClose).toBeLessThan(splitIntoTokens(longReply).length);
    await sleep(150);
    expect(record.tokensSent).toBe(sentAtClose);
  });

  it("rejects with the caller's reason when aborted before the response starts", async () => {
    standin.scriptNextChat({ hang: 'before-headers' });
    const controller = new AbortController();
    const reason = new Error('cancelled while waiting');
    setTimeout(() => controller.abort(reason), 50);
    const { parts, error } = await consume(createModel().stream(request({ signal: controller.signal })));
    expect(error).toBe(reason);
    expect(parts).toEqual([]);
    await onlyStream(standin).closed;
  });

  it("sends nothing when the caller's signal is already aborted", async () => {
    const signal = AbortSignal.abort();
    const { error } = await consume(createModel().stream(request({ signal })));
    expect(error).toBe(signal.reason);
    expect(standin.chatStreams).toHaveLength(0);
  });

  it('closes the connection when the consumer stops reading early', async () => {
    standin.scriptNextChat({ reply: longReply, tokenDelayMs: 20 });
    for await (const part of createModel().stream(request())) {
      if (part.type === 'text-delta') break;
    }
    const record = onlyStream(standin);
    await record.closed;
    expect(record.closedEarly).toBe(true);
  });

  it('surfaces HTTP 500 as UPSTREAM_FAILED with the status, keeping the server message out of it', async () => {
    standin.failNext(500, vendor.errorBody('internal failure near key sk-leaked-123'));
    const { parts, error } = await consume(createModel().stream(request()));
    expect(parts).toEqual([]);
    expect(error).toBeInstanceOf(RagqlError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_FAILED',
      details: { provider: vendor.provider, model: vendor.defaultModel, status: 500 },
    });
    const { message, cause } = error as RagqlError;
    expect(message).toContain(vendor.name);
    expect(message).toContain(vendor.defaultModel);
    expect(message).toMatch(/HTTP 500/);
    expect(message).not.toContain('sk-leaked-123');
    expect(cause).toBeDefined();
  });

  it('fails a rate-limited request at once, with its status and retry-after for the gateway', async () => {
    standin.failNext(429, undefined, { 'retry-after': '2' });
    const { error } = await consume(createModel().stream(request()));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_FAILED',
      details: { status: 429 },
      failure: { status: 429, retryAfterMs: 2000, transient: true },
    });
    // The SDK's own retries are off: retrying is the gateway's (src/gateway/resilient-chat-model.ts).
    expect(standin.requests).toHaveLength(1);
  });

  it('marks a refused request (HTTP 400) as not worth retrying', async () => {
    standin.failNext(400);
    const { error } = await consume(createModel().stream(request()));
    expect(error).toMatchObject({ failure: { status: 400, transient: false } });
  });

  it.each<ChatFailureKind>(['reset', 'malformed', 'error-event'])(
    'yields the tokens before a %s mid-stream, then fails with UPSTREAM_FAILED',
    async (kind) => {
      standin.scriptNextChat({ reply: longReply, failAfterTokens: { count: 3, kind } });
      const { parts, error } = await consume(createModel().stream(request()));
      expect(deltasOf(parts)).toEqual(splitIntoTokens(longReply).slice(0, 3));
      expect(finishesOf(parts)).toEqual([]);
      expect(error).toBeInstanceOf(RagqlError);
      expect(error).toMatchObject({
        code: 'UPSTREAM_FAILED',
        details: { provider: vendor.provider, model: vendor.defaultModel },
      });
      expect((error as RagqlError).message).toMatch(/mid-stream/);
      expect((error as RagqlError).message).not.toMatch(/error (while|during)/);
      expect((error as RagqlError).cause).toBeDefined();
    },
  );

  it.each(['after-headers', 'before-headers'] as const)(
    'times out a server that hangs %s, and closes the connection',
    async (hang) => {
      standin.scriptNextChat({ hang });
      const startedAt = performance.now();
      const { parts, error } = await consume(createModel({ idleTimeoutMs: 200 }).stream(request()));
      const elapsed = performance.now() - startedAt;
      expect(parts).toEqual([]);
      expect(error).toBeInstanceOf(RagqlError);
      expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', details: { idleTimeoutMs: 200 } });
      expect((error as RagqlError).message).toMatch(/timed out/);
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(1000);
      const record = onlyStream(standin);
      await record.closed;
      expect(record.closedEarly).toBe(true);
    },
  );

  it('waits up to the idle timeout for each event, not for the whole stream', async () => {
    standin.scriptNextChat({ reply: 'one two three four', tokenDelayMs: 60 });
    const { parts, error } = await consume(createModel({ idleTimeoutMs: 150 }).stream(request()));
    expect(error).toBeUndefined();
    expect(deltasOf(parts)).toEqual(['one', ' two', ' three', ' four']);
  });

  it('times out a stream that stalls after some tokens', async () => {
    standin.scriptNextChat({ reply: longReply, failAfterTokens: { count: 2, kind: 'hang' } });
    const { parts, error } = await consume(createModel({ idleTimeoutMs: 200 }).stream(request()));
    expect(deltasOf(parts)).toEqual(splitIntoTokens(longReply).slice(0, 2));
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', message: expect.stringMatching(/timed out/) });
    await onlyStream(standin).closed;
  });
});

describe('chat stand-ins', () => {
  it('answer OpenAI chat completions without streaming', async () => {
    const standin = await startOpenAIStandin();
    try {
      const client = new OpenAI({ apiKey: 'k', baseURL: standin.baseURL, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
      expect(completion.choices[0]?.message.content).toBe(expectedReply);
      expect(completion.usage).toMatchObject({ completion_tokens: splitIntoTokens(expectedReply).length });
    } finally {
      await standin.close();
    }
  });

  it('answer Cohere chat without streaming', async () => {
    const standin = await startCohereStandin();
    try {
      const client = new CohereClientV2({ token: 't', baseUrl: standin.baseUrl, maxRetries: 0 });
      const response = await client.chat({ model: 'command-r-08-2024', messages });
      expect(response.message.content).toEqual([{ type: 'text', text: expectedReply }]);
      expect(response.finishReason).toBe('COMPLETE');
    } finally {
      await standin.close();
    }
  });

  it("refuse a chat request without a model, in each vendor's error shape", async () => {
    const openai = await startOpenAIStandin();
    const cohere = await startCohereStandin();
    try {
      const post = (url: string) =>
        fetch(url, {
          method: 'POST',
          body: JSON.stringify({ messages }),
          headers: { 'content-type': 'application/json' },
        });
      const openaiResponse = await post(`${openai.baseURL}/chat/completions`);
      expect(openaiResponse.status).toBe(400);
      expect(await openaiResponse.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
      const cohereResponse = await post(`${cohere.baseUrl}/v2/chat`);
      expect(cohereResponse.status).toBe(400);
      expect(await cohereResponse.json()).toMatchObject({ message: expect.stringMatching(/model/) });
    } finally {
      await openai.close();
      await cohere.close();
    }
  });

  it('rerank documents by the share of query words they contain', async () => {
    const standin = await startCohereStandin();
    try {
      const client = new CohereClientV2({ token: 't', baseUrl: standin.baseUrl, maxRetries: 0 });
      const response = await client.rerank({
        model: 'rerank-v3.5',
        query: 'hybrid vector search',
        documents: ['keyword search only', 'baking bread', 'Hybrid search over vectors and a vector index'],
        topN: 2,
      });
      expect(response.results).toEqual([
        { index: 2, relevanceScore: 1 },
        { index: 0, relevanceScore: 1 / 3 },
      ]);
      expect(response.meta?.billedUnits?.searchUnits).toBe(1);
    } finally {
      await standin.close();
    }
  });

  it('end a hanging stream on close, and cancel a pending token timer when the client leaves', async () => {
    const standin = await startOpenAIStandin();
    standin.scriptNextChat({ hang: 'after-headers' });
    standin.scriptNextChat({ reply: 'never sent', tokenDelayMs: 60_000 });
    const post = () =>
      fetch(`${standin.baseURL}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', messages, stream: true }),
        headers: { 'content-type': 'application/json' },
      });
    const hanging = await post();
    expect(hanging.status).toBe(200);
    const timersBefore = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const slow = await post();
    await slow.body?.cancel();
    await standin.chatStreams[1]?.closed;
    const timersAfter = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    await standin.close();
    expect(await standin.chatStreams[0]?.closed).toBeGreaterThan(0);
    expect(standin.chatStreams.map((record) => record.closedEarly)).toEqual([true, true]);
  });
});

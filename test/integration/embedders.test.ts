/**
 * The OpenAI and Cohere embedders, driven through the real SDKs against local stand-ins that
 * speak each API's wire protocol.
 */
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RagqlError } from '../../src/errors.ts';
import { createCohereEmbedder, probeCohereDimensions } from '../../src/providers/cohere-embedder.ts';
import { createOpenAIEmbedder, probeOpenAIDimensions } from '../../src/providers/openai-embedder.ts';
import { type CohereStandin, startCohereStandin } from '../support/cohere-standin.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import { type OpenAIStandin, startOpenAIStandin } from '../support/openai-standin.ts';
import { rejectionOf } from '../support/rejection.ts';

/** Providers embed every tenant's texts alike; only caches tell tenants apart. */
const tenant = 'acme';
const texts = ['the quick brown fox', 'jumps over the lazy dog', 'a third, unrelated sentence'];

/** What the stand-ins embed a text as, at float32 precision. */
function expectedVector(text: string, dimensions: number): Float32Array {
  return Float32Array.from(deterministicEmbedding(text, dimensions));
}

describe('deterministic test embedding', () => {
  const cosine = (a: number[], b: number[]) =>
    a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);

  it('is a unit vector of the requested dimensions', () => {
    const vector = deterministicEmbedding('Hybrid search ranks chunks', 32);
    expect(vector).toHaveLength(32);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 10);
  });

  it('gives texts that share words a higher similarity than texts that share none', () => {
    const query = deterministicEmbedding('vector search', 256);
    const related = deterministicEmbedding('Search by vector similarity', 256);
    const unrelated = deterministicEmbedding('baking sourdough bread', 256);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated));
  });

  it('gives a text without words a fixed unit vector instead of NaNs', () => {
    expect(deterministicEmbedding(' ,;', 4)).toEqual([1, 0, 0, 0]);
  });
});

describe('OpenAI stand-in', () => {
  let standin: OpenAIStandin;
  beforeEach(async () => {
    standin = await startOpenAIStandin({ dimensions: 8 });
  });
  afterEach(() => standin.close());

  it('serves base64 vectors that the SDK decodes by default', async () => {
    const client = new OpenAI({ apiKey: 'test-key', baseURL: standin.baseURL, maxRetries: 0 });
    const response = await client.embeddings.create({ model: 'any-model', input: texts });
    expect(standin.requests[0]?.body).toMatchObject({ encoding_format: 'base64' });
    expect(response.data.map((item) => Float32Array.from(item.embedding))).toEqual(
      texts.map((text) => expectedVector(text, 8)),
    );
  });

  it('serves float vectors when asked for encoding_format float', async () => {
    const client = new OpenAI({ apiKey: 'test-key', baseURL: standin.baseURL, maxRetries: 0 });
    const response = await client.embeddings.create({
      model: 'any-model',
      input: texts,
      encoding_format: 'float',
    });
    expect(response.data.map((item) => item.embedding)).toEqual(
      texts.map((text) => deterministicEmbedding(text, 8)),
    );
  });

  it("answers an unknown path with 404 in OpenAI's error shape", async () => {
    const response = await fetch(`${standin.baseURL}/no-such-route`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'unknown_url' },
    });
  });
});

describe('OpenAI embedder', () => {
  let standin: OpenAIStandin;
  beforeEach(async () => {
    standin = await startOpenAIStandin({ dimensions: 64 });
  });
  afterEach(() => standin.close());

  const embedderFor = (overrides: Partial<Parameters<typeof createOpenAIEmbedder>[0]> = {}) =>
    createOpenAIEmbedder({
      apiKey: 'test-key',
      baseURL: standin.baseURL,
      model: 'text-embedding-3-small',
      dimensions: 64,
      requestDimensions: false,
      maxRetries: 0,
      ...overrides,
    });

  it('states its provider, model, dimensions and batch limit', () => {
    const embedder = embedderFor({ model: 'nomic-embed-text', maxEmbeddingsPerCall: 512 });
    expect(embedder).toMatchObject({
      specificationVersion: 'v1',
      provider: 'openai',
      modelId: 'nomic-embed-text',
      dimensions: 64,
      maxEmbeddingsPerCall: 512,
    });
    expect(createOpenAIEmbedder({ apiKey: 'k', dimensions: 1536, requestDimensions: false })).toMatchObject({
      modelId: 'text-embedding-3-small',
      maxEmbeddingsPerCall: 2048,
    });
  });

  it('returns one vector per text, in input order, with the declared dimensions', async () => {
    const result = await embedderFor().embed(texts, { purpose: 'document', tenant });
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 64)));
  });

  it('puts vectors in input order by their index even when the server sends them out of order', async () => {
    await standin.close();
    standin = await startOpenAIStandin({ dimensions: 64, dataOrder: 'reversed' });
    const result = await embedderFor().embed(texts, { purpose: 'document', tenant });
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 64)));
  });

  it('asks for base64 and reports the tokens the server billed', async () => {
    const result = await embedderFor().embed(texts, { purpose: 'query', tenant });
    expect(standin.requests[0]?.body).toMatchObject({
      encoding_format: 'base64',
      model: 'text-embedding-3-small',
    });
    expect(result.tokens).toBe(13);
  });

  it('decodes float arrays from servers that ignore encoding_format', async () => {
    await standin.close();
    standin = await startOpenAIStandin({ dimensions: 64, ignoreEncodingFormat: true });
    const result = await embedderFor().embed(texts, { purpose: 'document', tenant });
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 64)));
  });

  it('sends the API key as a bearer token', async () => {
    await embedderFor({ apiKey: 'sk-standin' }).embed(['hello'], { purpose: 'query', tenant });
    expect(standin.requests[0]?.headers.authorization).toBe('Bearer sk-standin');
  });

  it('does not send dimensions unless requestDimensions is set', async () => {
    await embedderFor({ dimensions: 64, requestDimensions: false }).embed(['hello'], {
      purpose: 'document',
      tenant,
    });
    expect(standin.requests[0]?.body).not.toHaveProperty('dimensions');
  });

  it('sends dimensions when requestDimensions is set, and gets vectors of that size', async () => {
    const result = await embedderFor({ dimensions: 16, requestDimensions: true }).embed(texts, {
      purpose: 'document',
      tenant,
    });
    expect(standin.requests[0]?.body).toMatchObject({ dimensions: 16 });
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 16)));
  });

  it('rejects vectors of another length as UPSTREAM_FAILED naming the model and both lengths', async () => {
    const error = await rejectionOf(
      embedderFor({ dimensions: 32 }).embed(texts, { purpose: 'document', tenant }),
    );
    expect(error).toBeInstanceOf(RagqlError);
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect((error as RagqlError).message).toMatch(/'text-embedding-3-small'.*\b64\b.*\b32\b/);
  });

  it('surfaces an HTTP 401 as UPSTREAM_FAILED with the status, keeping the API message out of it', async () => {
    standin.failNext(401, {
      error: { message: 'Incorrect API key provided: sk-test', type: 'invalid_request_error', code: null },
    });
    const error = await rejectionOf(embedderFor().embed(texts, { purpose: 'document', tenant }));
    expect(error).toBeInstanceOf(RagqlError);
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', details: { provider: 'openai', status: 401 } });
    expect((error as RagqlError).message).toMatch(/HTTP 401/);
    expect((error as RagqlError).message).not.toContain('sk-test');
    expect(String(((error as RagqlError).cause as Error).message)).toContain('Incorrect API key');
    expect(standin.requests).toHaveLength(1);
  });

  it('retries a failed request as often as maxRetries allows', async () => {
    standin.failNext(503, undefined, { 'retry-after-ms': '0' });
    const result = await embedderFor({ maxRetries: 1 }).embed(texts, { purpose: 'document', tenant });
    expect(result.embeddings).toHaveLength(3);
    expect(standin.requests).toHaveLength(2);
  });

  it('gives up on a failed request at once with maxRetries 0', async () => {
    standin.failNext(503, undefined, { 'retry-after-ms': '0' });
    const error = await rejectionOf(
      embedderFor({ maxRetries: 0 }).embed(texts, { purpose: 'document', tenant }),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', details: { status: 503 } });
    expect(standin.requests).toHaveLength(1);
  });

  it("rejects with the caller's abort reason when the signal is aborted", async () => {
    const signal = AbortSignal.abort();
    const error = await rejectionOf(embedderFor().embed(texts, { purpose: 'document', tenant, signal }));
    expect(error).toBe(signal.reason);
    expect(standin.requests).toHaveLength(0);
  });

  it('sends no request for no texts', async () => {
    expect(await embedderFor().embed([], { purpose: 'document', tenant })).toEqual({ embeddings: [] });
    expect(standin.requests).toHaveLength(0);
  });

  it('refuses more texts than maxEmbeddingsPerCall', async () => {
    await expect(
      embedderFor({ maxEmbeddingsPerCall: 2 }).embed(texts, { purpose: 'document', tenant }),
    ).rejects.toThrow(/at most 2/);
    expect(standin.requests).toHaveLength(0);
  });

  it('probes the dimensions of an unknown model without asking for any', async () => {
    await standin.close();
    standin = await startOpenAIStandin({ dimensions: 48 });
    const dimensions = await probeOpenAIDimensions({
      apiKey: 'k',
      baseURL: standin.baseURL,
      model: 'mystery-model',
    });
    expect(dimensions).toBe(48);
    expect(standin.requests[0]?.body).toMatchObject({ model: 'mystery-model' });
    expect(standin.requests[0]?.body).not.toHaveProperty('dimensions');
  });
});

describe('Cohere embedder', () => {
  let standin: CohereStandin;
  beforeEach(async () => {
    standin = await startCohereStandin({ dimensions: 64 });
  });
  afterEach(() => standin.close());

  const embedderFor = (overrides: Partial<Parameters<typeof createCohereEmbedder>[0]> = {}) =>
    createCohereEmbedder({
      token: 'test-token',
      baseUrl: standin.baseUrl,
      model: 'embed-v4.0',
      dimensions: 64,
      requestDimensions: false,
      maxRetries: 0,
      ...overrides,
    });

  it('states its provider, model, dimensions and batch limit', () => {
    expect(embedderFor()).toMatchObject({
      specificationVersion: 'v1',
      provider: 'cohere',
      modelId: 'embed-v4.0',
      dimensions: 64,
      maxEmbeddingsPerCall: 96,
    });
  });

  it('returns one vector per text, in input order, with the declared dimensions', async () => {
    const result = await embedderFor().embed(texts, { purpose: 'document', tenant });
    expect(standin.requests[0]?.path).toBe('/v2/embed');
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 64)));
  });

  it('asks for float vectors and reports the billed input tokens', async () => {
    const result = await embedderFor().embed(texts, { purpose: 'document', tenant });
    expect(standin.requests[0]?.body).toMatchObject({
      model: 'embed-v4.0',
      texts,
      embedding_types: ['float'],
    });
    expect(result.tokens).toBe(13);
  });

  it('embeds documents as search_document and queries as search_query', async () => {
    const embedder = embedderFor();
    await embedder.embed(['a stored chunk'], { purpose: 'document', tenant });
    await embedder.embed(['a question'], { purpose: 'query', tenant });
    expect(standin.requests.map((request) => request.inputType)).toEqual(['search_document', 'search_query']);
  });

  it('sends the token as a bearer token', async () => {
    await embedderFor({ token: 'co-standin' }).embed(['hello'], { purpose: 'query', tenant });
    expect(standin.requests[0]?.headers.authorization).toBe('Bearer co-standin');
  });

  it('does not send output_dimension unless requestDimensions is set', async () => {
    await embedderFor({ requestDimensions: false }).embed(['hello'], { purpose: 'document', tenant });
    expect(standin.requests[0]?.body).not.toHaveProperty('output_dimension');
  });

  it('sends output_dimension when requestDimensions is set, and gets vectors of that size', async () => {
    const result = await embedderFor({ dimensions: 16, requestDimensions: true }).embed(texts, {
      purpose: 'document',
      tenant,
    });
    expect(standin.requests[0]?.body).toMatchObject({ output_dimension: 16 });
    expect(result.embeddings).toEqual(texts.map((text) => expectedVector(text, 16)));
  });

  it('rejects vectors of another length as UPSTREAM_FAILED naming the model and both lengths', async () => {
    const error = await rejectionOf(
      embedderFor({ dimensions: 32 }).embed(texts, { purpose: 'document', tenant }),
    );
    expect(error).toBeInstanceOf(RagqlError);
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect((error as RagqlError).message).toMatch(/'embed-v4.0'.*\b64\b.*\b32\b/);
  });

  it('surfaces an HTTP 400 as UPSTREAM_FAILED with the status, keeping the API message out of it', async () => {
    standin.failNext(400, { message: 'invalid request: texts is too long' });
    const error = await rejectionOf(embedderFor().embed(texts, { purpose: 'document', tenant }));
    expect(error).toBeInstanceOf(RagqlError);
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', details: { provider: 'cohere', status: 400 } });
    expect((error as RagqlError).message).toMatch(/HTTP 400/);
    expect((error as RagqlError).message).not.toContain('texts is too long');
  });

  it('gives up on a failed request at once with maxRetries 0', async () => {
    standin.failNext(503);
    const error = await rejectionOf(
      embedderFor({ maxRetries: 0 }).embed(texts, { purpose: 'document', tenant }),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', details: { status: 503 } });
    expect(standin.requests).toHaveLength(1);
  });

  it("rejects with the caller's abort reason when the signal is aborted", async () => {
    const signal = AbortSignal.abort();
    const error = await rejectionOf(embedderFor().embed(texts, { purpose: 'document', tenant, signal }));
    expect(error).toBe(signal.reason);
    expect(standin.requests).toHaveLength(0);
  });

  it('sends no request for no texts', async () => {
    expect(await embedderFor().embed([], { purpose: 'query', tenant })).toEqual({ embeddings: [] });
    expect(standin.requests).toHaveLength(0);
  });

  it('probes the dimensions of an unknown model without asking for any', async () => {
    await standin.close();
    standin = await startCohereStandin({ dimensions: 48 });
    const dimensions = await probeCohereDimensions({
      token: 't',
      baseUrl: standin.baseUrl,
      model: 'embed-mystery',
    });
    expect(dimensions).toBe(48);
    expect(standin.requests[0]?.body).toMatchObject({ model: 'embed-mystery' });
    expect(standin.requests[0]?.body).not.toHaveProperty('output_dimension');
  });
});

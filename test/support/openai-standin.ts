/**
 * A local HTTP server that speaks the OpenAI API's wire protocol, so tests drive the real
 * `openai` SDK (via `baseURL`) without reaching the internet. Embeddings are
 * `deterministicEmbedding` of each input, so tests can compute what to expect.
 *
 * Chat completions reply as `chat-script.ts` scripts them, streamed over SSE or as one body.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  type ChatScripting,
  type ChatWireFormat,
  createChatScripting,
  type WireUsage,
} from './chat-script.ts';
import { deterministicEmbedding } from './deterministic-embedding.ts';
import { countWords, type RecordedRequest, sendJson, startStandinServer } from './standin-server.ts';

export type { RecordedRequest } from './standin-server.ts';

export interface OpenAIStandinOptions {
  /** Dimensions of the vectors returned when a request sends no `dimensions`. @default 64 */
  dimensions?: number;
  /**
   * Always answer with float arrays, whatever `encoding_format` asks for, as some
   * OpenAI-compatible servers do. @default false
   */
  ignoreEncodingFormat?: boolean;
  /**
   * The order of `data` in embedding responses. Each item names its input by `index`, so the
   * protocol allows any order; `reversed` catches clients that rely on position. @default 'input'
   */
  dataOrder?: 'input' | 'reversed';
  /**
   * Awaited before each embeddings request is answered, with the request's texts and model, so
   * that a test can act while an ingestion is certainly in progress. Resolving to `{ failWith }`
   * answers the request with that HTTP status instead (what the test decided while it held it).
   */
  beforeEmbeddings?: (texts: readonly string[], model: string) => Promise<EmbeddingsHoldOutcome>;
}

/** What a held embeddings request gets: `undefined` serves it as usual, `{ failWith }` an error. */
export type EmbeddingsHoldOutcome = undefined | { failWith: number };

export interface OpenAIStandin extends ChatScripting {
  /** The base URL to give the SDK, e.g. `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  /** Every request received, in order, including those answered with an injected failure. */
  requests: RecordedRequest[];
  /**
   * Answers the next request with this status instead of serving it. Without a `body`, the
   * response is an error in OpenAI's shape; calls queue up, one failure per request.
   */
  failNext(status: number, body?: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startOpenAIStandin(options: OpenAIStandinOptions = {}): Promise<OpenAIStandin> {
  const defaultDimensions = options.dimensions ?? 64;
  const { chatRoute, ...chat } = createChatScripting();
  const server = await startStandinServer({
    routes: {
      'POST /v1/embeddings': async (request, response) => {
        const model = (request.body as { model?: unknown } | undefined)?.model;
        const outcome = await options.beforeEmbeddings?.(inputTexts(request), String(model));
        if (outcome) {
          sendError(response, outcome.failWith, 'Injected failure of a held request', 'injected');
          return;
        }
        handleEmbeddings(request, response, defaultDimensions, options);
      },
      'POST /v1/chat/completions': chatRoute({
        wireFor: (body) => {
          const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
          return openAIChatWire(String(body.model), streamOptions?.include_usage === true);
        },
        refuse: (response, problem) =>
          sendError(response, 400, `Invalid request: ${problem}.`, 'invalid_request'),
      }),
    },
    record: (request) => request,
    failureBody: (status) => openAIError(`Injected failure with status ${status}`, null),
    notFound: (request, response) =>
      sendError(response, 404, `Unknown request URL: ${request.method} ${request.path}.`, 'unknown_url'),
  });
  return {
    baseURL: `${server.origin}/v1`,
    requests: server.requests,
    failNext: server.failNext,
    close: server.close,
    ...chat,
  };
}

/**
 * Chat completion chunks as OpenAI streams them: a first chunk with the role, one per token, one
 * with `finish_reason`, the usage chunk when `stream_options.include_usage` asks for it, `[DONE]`.
 */
function openAIChatWire(model: string, includeUsage: boolean): ChatWireFormat {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage: unknown = null) =>
    sseData({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: null,
      choices,
      // With include_usage, every chunk carries `usage`: null until the last.
      ...(includeUsage ? { usage } : {}),
    });
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });
  return {
    opening: () => chunk([choice({ role: 'assistant', content: '', refusal: null })]),
    token: (text) => chunk([choice({ content: text })]),
    closing: (usage) =>
      chunk([choice({}, 'stop')]) +
      (includeUsage && usage ? chunk([], openAIUsage(usage)) : '') +
      'data: [DONE]\n\n',
    malformed: () => 'data: {"id": "chatcmpl-broken", "choices": [\n\n',
    errorEvent: () =>
      sseData({
        error: {
          message: 'The server had an error while processing your request.',
          type: 'server_error',
          param: null,
          code: null,
        },
      }),
    completion: (reply, usage) => ({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: reply, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: openAIUsage(usage),
    }),
  };
}

function openAIUsage({ promptTokens, completionTokens }: WireUsage): unknown {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** The texts of an embeddings request, or none when its input is malformed (handleEmbeddings refuses it). */
function inputTexts(request: RecordedRequest): string[] {
  const input = (request.body as { input?: unknown } | undefined)?.input;
  const texts = typeof input === 'string' ? [input] : input;
  return Array.isArray(texts) ? texts.filter((text): text is string => typeof text === 'string') : [];
}

function handleEmbeddings(
  request: RecordedRequest,
  response: ServerResponse,
  defaultDimensions: number,
  { ignoreEncodingFormat = false, dataOrder = 'input' }: OpenAIStandinOptions,
): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const { input, model, dimensions = defaultDimensions, encoding_format: encodingFormat = 'float' } = body;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text) => typeof text === 'string')) {
    sendError(response, 400, "'input' must be a string or a non-empty array of strings.", 'invalid_input');
    return;
  }
  if (typeof model !== 'string' || model === '') {
    sendError(response, 400, "'model' is required.", 'missing_model');
    return;
  }
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1) {
    sendError(response, 400, "'dimensions' must be a positive integer.", 'invalid_dimensions');
    return;
  }
  if (encodingFormat !== 'float' && encodingFormat !== 'base64') {
    sendError(response, 400, "'encoding_format' must be 'float' or 'base64'.", 'invalid_encoding_format');
    return;
  }
  const asBase64 = encodingFormat === 'base64' && !ignoreEncodingFormat;
  const tokens = texts.reduce((sum, text) => sum + countWords(text), 0);
  const data = texts.map((text, index) => {
    const vector = deterministicEmbedding(text, dimensions);
    return { object: 'embedding', index, embedding: asBase64 ? toBase64Float32(vector) : vector };
  });
  sendJson(response, 200, {
    object: 'list',
    data: dataOrder === 'reversed' ? data.reverse() : data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** The bytes of little-endian float32s, base64-encoded: OpenAI's `encoding_format: 'base64'`. */
function toBase64Float32(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => {
    bytes.writeFloatLE(value, index * 4);
  });
  return bytes.toString('base64');
}

function openAIError(message: string, code: string | null): unknown {
  return { error: { message, type: 'invalid_request_error', param: null, code } };
}

function sendError(response: ServerResponse, status: number, message: string, code: string): void {
  sendJson(response, status, openAIError(message, code));
}

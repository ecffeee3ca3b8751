/**
 * A local HTTP server that speaks Cohere's v2 wire protocol, so tests drive the real `cohere-ai`
 * SDK (via `baseUrl`) without reaching the internet. Embeddings are `deterministicEmbedding` of
 * each text, so tests can compute what to expect; chat replies as `chat-script.ts` scripts them;
 * rerank scores by word overlap (`wordOverlapScore`).
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

/** A request as received; `body` has Cohere's wire field names, e.g. `input_type`. */
export interface RecordedCohereRequest extends RecordedRequest {
  /** The body's `input_type`, e.g. `search_document`, when it sent one. */
  inputType: string | undefined;
}

export interface CohereStandinOptions {
  /** Dimensions of the vectors returned when a request sends no `output_dimension`. @default 64 */
  dimensions?: number;
}

export interface CohereStandin extends ChatScripting {
  /** The base URL to give the SDK, e.g. `http://127.0.0.1:PORT` (the SDK appends `v2/embed`). */
  baseUrl: string;
  /** Every request received, in order, including those answered with an injected failure. */
  requests: RecordedCohereRequest[];
  /**
   * Answers the next request with this status instead of serving it. Without a `body`, the
   * response is an error in Cohere's shape (`{ message }`); calls queue up, one per request.
   */
  failNext(status: number, body?: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startCohereStandin(options: CohereStandinOptions = {}): Promise<CohereStandin> {
  const defaultDimensions = options.dimensions ?? 64;
  const { chatRoute, ...chat } = createChatScripting();
  const server = await startStandinServer<RecordedCohereRequest>({
    routes: {
      'POST /v2/embed': (request, response) => handleEmbed(request, response, defaultDimensions),
      'POST /v2/chat': chatRoute({
        wireFor: cohereChatWire,
        refuse: (response, problem) => sendJson(response, 400, { message: `invalid request: ${problem}` }),
      }),
      'POST /v2/rerank': handleRerank,
    },
    record: (request) => {
      const inputType = (request.body as { input_type?: unknown } | undefined)?.input_type;
      return { ...request, inputType: typeof inputType === 'string' ? inputType : undefined };
    },
    failureBody: (status) => ({ message: `injected failure with status ${status}` }),
    notFound: (request, response) =>
      sendJson(response, 404, { message: `no route for ${request.method} ${request.path}` }),
  });
  return {
    baseUrl: server.origin,
    requests: server.requests,
    failNext: server.failNext,
    close: server.close,
    ...chat,
  };
}

/**
 * Cohere v2's chat stream: SSE frames named by `event:` whose JSON repeats the name as `type`
 * (the SDK reads only the `data:` lines): message-start, content-start, a content-delta per
 * token, content-end, message-end with the finish reason and usage. An error during generation
 * is a message-end with finish reason ERROR and an `error` text.
 */
function cohereChatWire(): ChatWireFormat {
  const id = randomUUID();
  const event = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
  const contentEnd = () => event('content-end', { index: 0 });
  return {
    opening: () =>
      event('message-start', {
        id,
        delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
      }) + event('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } }),
    token: (text) => event('content-delta', { index: 0, delta: { message: { content: { text } } } }),
    closing: (usage) =>
      contentEnd() +
      event('message-end', {
        delta: { finish_reason: 'COMPLETE', ...(usage ? { usage: cohereUsage(usage) } : {}) },
      }),
    malformed: () => 'event: content-delta\ndata: {"type": "content-delta", "delta": \n\n',
    errorEvent: () =>
      contentEnd() +
      event('message-end', { delta: { finish_reason: 'ERROR', error: 'internal error during generation' } }),
    completion: (reply, usage) => ({
      id,
      finish_reason: 'COMPLETE',
      message: { role: 'assistant', content: [{ type: 'text', text: reply }] },
      usage: cohereUsage(usage),
    }),
  };
}

function cohereUsage({ promptTokens, completionTokens }: WireUsage): unknown {
  const counts = { input_tokens: promptTokens, output_tokens: completionTokens };
  return { billed_units: counts, tokens: counts };
}

/**
 * The stand-in's relevance of a document to a query: the share of the query's distinct words
 * (lowercased letters and digits) that the document contains, from 0 to 1.
 */
export function wordOverlapScore(query: string, document: string): number {
  const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const queryWords = words(query);
  if (queryWords.size === 0) return 0;
  const documentWords = words(document);
  return [...queryWords].filter((word) => documentWords.has(word)).length / queryWords.size;
}

function handleRerank(request: RecordedCohereRequest, response: ServerResponse): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const { model, query, documents, top_n: topN } = body;
  if (typeof model !== 'string' || model === '') {
    sendJson(response, 400, { message: 'invalid request: model is required' });
    return;
  }
  if (typeof query !== 'string' || query.trim() === '') {
    sendJson(response, 400, { message: 'invalid request: query must be a non-empty string' });
    return;
  }
  if (!Array.isArray(documents) || documents.length === 0 || !documents.every((d) => typeof d === 'string')) {
    sendJson(response, 400, { message: 'invalid request: documents must be a non-empty list of strings' });
    return;
  }
  if (topN !== undefined && (typeof topN !== 'number' || !Number.isInteger(topN) || topN < 1)) {
    sendJson(response, 400, { message: 'invalid request: top_n must be a positive integer' });
    return;
  }
  const results = documents
    .map((document: string, index) => ({ index, relevance_score: wordOverlapScore(query, document) }))
    // Ties keep input order (sort is stable), so tests can predict the whole ranking.
    .sort((a, b) => b.relevance_score - a.relevance_score)
    .slice(0, topN ?? documents.length);
  sendJson(response, 200, {
    id: randomUUID(),
    results,
    // Cohere bills one search unit per query for up to 100 documents.
    meta: {
      api_version: { version: '2' },
      billed_units: { search_units: Math.ceil(documents.length / 100) },
    },
  });
}

const inputTypes = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);

function handleEmbed(
  request: RecordedCohereRequest,
  response: ServerResponse,
  defaultDimensions: number,
): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const {
    model,
    texts,
    input_type: inputType,
    embedding_types: embeddingTypes = ['float'],
    output_dimension: dimensions = defaultDimensions,
  } = body;
  if (typeof model !== 'string' || model === '') {
    sendJson(response, 400, { message: 'invalid request: model is required' });
    return;
  }
  if (typeof inputType !== 'string' || !inputTypes.has(inputType)) {
    sendJson(response, 400, {
      message: `invalid request: input_type must be one of ${[...inputTypes].join(', ')}`,
    });
    return;
  }
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text) => typeof text === 'string')) {
    sendJson(response, 400, { message: 'invalid request: texts must be a non-empty list of strings' });
    return;
  }
  if (texts.length > 96) {
    sendJson(response, 400, {
      message: `invalid request: total number of texts must be at most 96 - received ${texts.length}`,
    });
    return;
  }
  if (!Array.isArray(embeddingTypes) || embeddingTypes.some((type) => type !== 'float')) {
    sendJson(response, 400, {
      message: "invalid request: this stand-in only serves embedding_types ['float']",
    });
    return;
  }
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1) {
    sendJson(response, 400, { message: 'invalid request: output_dimension must be a positive integer' });
    return;
  }
  const inputTokens = texts.reduce((sum, text) => sum + countWords(text), 0);
  sendJson(response, 200, {
    id: randomUUID(),
    texts,
    embeddings: { float: texts.map((text) => deterministicEmbedding(text, dimensions)) },
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: inputTokens } },
    response_type: 'embeddings_by_type',
  });
}

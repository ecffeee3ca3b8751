/**
 * A local HTTP server that speaks Cohere's v2 wire protocol, so tests drive the real `cohere-ai`
 * SDK (via `baseUrl`) without reaching the internet. Embeddings are `deterministicEmbedding` of
 * each text, so tests can compute what to expect.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
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

export interface CohereStandin {
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
  const server = await startStandinServer<RecordedCohereRequest>({
    routes: { 'POST /v2/embed': (request, response) => handleEmbed(request, response, defaultDimensions) },
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
  };
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

/**
 * A local HTTP server that speaks Cohere's v2 wire protocol, so tests drive the real `cohere-ai`
 * SDK (via `baseUrl`) without reaching the internet. Embeddings are `deterministicEmbedding` of
 * each text, so tests can compute what to expect.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deterministicEmbedding } from './deterministic-embedding.ts';

export interface RecordedCohereRequest {
  method: string;
  /** The path without the query string, e.g. `/v2/embed`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (wire field names, e.g. `input_type`); `undefined` when not JSON. */
  body: unknown;
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

type RouteHandler = (request: RecordedCohereRequest, response: ServerResponse) => void | Promise<void>;

interface InjectedFailure {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export async function startCohereStandin(options: CohereStandinOptions = {}): Promise<CohereStandin> {
  const defaultDimensions = options.dimensions ?? 64;
  const routes: Record<string, RouteHandler> = {
    'POST /v2/embed': (request, response) => handleEmbed(request, response, defaultDimensions),
  };
  const requests: RecordedCohereRequest[] = [];
  const failures: InjectedFailure[] = [];

  async function serve(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const request = await recordRequest(incoming);
    requests.push(request);
    const failure = failures.shift();
    if (failure) {
      sendJson(response, failure.status, failure.body, failure.headers);
      return;
    }
    const handler = routes[`${request.method} ${request.path}`];
    if (!handler) {
      sendJson(response, 404, { message: `no route for ${request.method} ${request.path}` });
      return;
    }
    await handler(request, response);
  }

  // A client that hangs up mid-request is not a test failure; drop the connection quietly.
  const server = createServer(
    (incoming, response) => void serve(incoming, response).catch(() => response.destroy()),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, body, headers = {}) {
      failures.push({ status, body: body ?? { message: `injected failure with status ${status}` }, headers });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
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
  const inputTokens = texts.reduce(
    (sum, text) => sum + text.split(/\s+/).filter((word) => word !== '').length,
    0,
  );
  sendJson(response, 200, {
    id: randomUUID(),
    texts,
    embeddings: { float: texts.map((text) => deterministicEmbedding(text, dimensions)) },
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: inputTokens } },
    response_type: 'embeddings_by_type',
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function recordRequest(incoming: IncomingMessage): Promise<RecordedCohereRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const inputType = (body as { input_type?: unknown } | undefined)?.input_type;
  return {
    method: incoming.method ?? 'GET',
    path: new URL(incoming.url ?? '/', 'http://standin').pathname,
    headers: incoming.headers,
    body,
    inputType: typeof inputType === 'string' ? inputType : undefined,
  };
}

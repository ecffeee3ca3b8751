/**
 * A local HTTP server that speaks the OpenAI API's wire protocol, so tests drive the real
 * `openai` SDK (via `baseURL`) without reaching the internet. Embeddings are
 * `deterministicEmbedding` of each input, so tests can compute what to expect.
 *
 * Routes live in a table keyed by method and path; a handler writes its own response, so a
 * streaming route (chat completions over SSE) is one more entry.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deterministicEmbedding } from './deterministic-embedding.ts';

export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/embeddings`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `undefined` when the body was empty or not JSON. */
  body: unknown;
}

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
}

export interface OpenAIStandin {
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

type RouteHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

interface InjectedFailure {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export async function startOpenAIStandin(options: OpenAIStandinOptions = {}): Promise<OpenAIStandin> {
  const defaultDimensions = options.dimensions ?? 64;
  const routes: Record<string, RouteHandler> = {
    'POST /v1/embeddings': (request, response) =>
      handleEmbeddings(request, response, defaultDimensions, options),
  };
  const requests: RecordedRequest[] = [];
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
      sendError(response, 404, `Unknown request URL: ${request.method} ${request.path}.`, 'unknown_url');
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
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext(status, body, headers = {}) {
      failures.push({
        status,
        body: body ?? openAIError(`Injected failure with status ${status}`, null),
        headers,
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
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

function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

function openAIError(message: string, code: string | null): unknown {
  return { error: { message, type: 'invalid_request_error', param: null, code } };
}

function sendError(response: ServerResponse, status: number, message: string, code: string): void {
  sendJson(response, status, openAIError(message, code));
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

async function recordRequest(incoming: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return {
    method: incoming.method ?? 'GET',
    path: new URL(incoming.url ?? '/', 'http://standin').pathname,
    headers: incoming.headers,
    body,
  };
}

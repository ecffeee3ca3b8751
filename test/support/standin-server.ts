/**
 * The HTTP plumbing the paid-API stand-ins share: a loopback server with a route table keyed by
 * method and path, a record of every request, and failures injected one request at a time.
 * Each stand-in adds its own routes and its vendor's error shape.
 */

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/embeddings`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `undefined` when the body was empty or not JSON. */
  body: unknown;
  /** performance.now() when the request arrived. */
  receivedAt: number;
}

export type RouteHandler<Request extends RecordedRequest> = (
  request: Request,
  response: ServerResponse,
) => void | Promise<void>;

export interface StandinServerOptions<Request extends RecordedRequest> {
  /** Handlers keyed like `POST /v1/embeddings`; each writes its own response (JSON or a stream). */
  routes: Record<string, RouteHandler<Request>>;
  /** Adds vendor-specific fields to what is recorded of a request. */
  record: (request: RecordedRequest) => Request;
  /** The vendor's error body for an injected failure that names none. */
  failureBody: (status: number) => unknown;
  /** Answers a request no route serves, in the vendor's error shape. */
  notFound: (request: Request, response: ServerResponse) => void;
  /** The port to listen on (a stand-in coming back where it was); any free one by default. */
  port?: number;
}

export interface StandinServer<Request extends RecordedRequest> {
  /** e.g. `http://127.0.0.1:PORT` */
  origin: string;
  /** Every request received, in order, including those answered with an injected failure. */
  requests: Request[];
  /** Answers the next request with this status instead of serving it; calls queue up, one per request. */
  failNext(status: number, body?: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

interface InjectedFailure {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export async function startStandinServer<Request extends RecordedRequest>(
  options: StandinServerOptions<Request>,
): Promise<StandinServer<Request>> {
  const requests: Request[] = [];
  const failures: InjectedFailure[] = [];

  async function serve(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const request = options.record(await recordRequest(incoming));
    requests.push(request);
    const failure = failures.shift();
    if (failure) {
      sendJson(response, failure.status, failure.body, failure.headers);
      return;
    }
    const handler = options.routes[`${request.method} ${request.path}`];
    if (!handler) {
      options.notFound(request, response);
      return;
    }
    await handler(request, response);
  }

  // A client that hangs up mid-request is not a test failure; drop the connection quietly.
  const server = createServer(
    (incoming, response) => void serve(incoming, response).catch(() => response.destroy()),
  );
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, body, headers = {}) {
      failures.push({ status, body: body ?? options.failureBody(status), headers });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** A rough token count for usage figures: the number of whitespace-separated words. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

async function recordRequest(incoming: IncomingMessage): Promise<RecordedRequest> {
  const receivedAt = performance.now();
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
    receivedAt,
  };
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
import { nativeSignal } from './abort.ts';
import { bearerKey } from './access/api-keys.ts';
import { servicesForCaller } from './composition/caller-services.ts';
import type { HttpSettings } from './composition/config.ts';
import type { RagqlServices } from './composition/services.ts';
import { RagqlError } from './errors.ts';
import type { Logger } from './observability/logger.ts';
import { parseFailuresUncached, useOperationTelemetry } from './observability/operation-telemetry.ts';
import { currentRequestId, runInRequestScope } from './observability/request-context.ts';
import type { StoreEngine } from './ports.ts';
import { createErrorMasker, useErrorCodes } from './schema/client-errors.ts';
import { type RagqlContext, schema } from './schema/index.ts';
import { isAnswerPageRequest, serveAnswerPage } from './transport/answer-page.ts';
import { unauthenticatedMessage, useAuthentication } from './transport/authentication.ts';
import {
  isForeignBrowserRequest,
  upgradeOriginOf,
  useBrowserOriginCheck,
} from './transport/browser-origin.ts';
import { useCsrfPrevention } from './transport/csrf-prevention.ts';
import { useExactPaths } from './transport/exact-paths.ts';
import { renderOfflineGraphiQL } from './transport/graphiql-page.ts';
import { useNoIntrospection } from './transport/introspection.ts';
import { McpSessions, mcpPath } from './transport/mcp.ts';
import { metricsPath, serveMetrics } from './transport/metrics-endpoint.ts';
import { TierCost, useTierQueryCost } from './transport/query-cost.ts';
import { useRateLimits } from './transport/rate-limiting.ts';
import { useRequestBodyLimit } from './transport/request-body-limit.ts';
import { useSingleConnectionSSE } from './transport/sse-single-connection.ts';
import { isWebSocketOperation, type TransportContext } from './transport/transport-context.ts';
import { attachWebSocketTransport } from './transport/websocket.ts';

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  services: RagqlServices;
  logger: Logger;
  /** What the server exposes (introspection, GraphiQL, CORS) and how large a request may be. */
  http: HttpSettings;
  /**
   * How long a reserved SSE stream (single-connection mode) may wait to be opened.
   * @default 10 minutes (src/transport/sse-single-connection.ts)
   */
  sseReservationIdleMs?: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:4000/graphql */
  graphqlUrl: string;
  port: number;
  close(): Promise<void>;
}

/** A request id a client or proxy sent, when it looks like one; otherwise ragql makes its own. */
const acceptableRequestId = /^[\w.:-]{1,128}$/;

const graphqlEndpoint = '/graphql';
const healthCheckEndpoint = '/healthz';
const readinessEndpoint = '/readyz';

/**
 * Serves GraphQL at /graphql over HTTP, over SSE (distinct connections, and graphql-sse's single
 * connection mode) and over WebSocket (graphql-ws); liveness at /healthz and readiness (the store
 * answers) at /readyz.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { services, logger, http } = options;
  const cost = new TierCost(services.tiers, services.plugins);
  const yoga = createYoga<TransportContext, RagqlContext>({
    schema,
    graphqlEndpoint,
    healthCheckEndpoint,
    landingPage: false,
    graphiql: http.graphiql,
    renderGraphiQL: renderOfflineGraphiQL,
    // useRequestBodyLimit bounds bodies, without Yoga's cost per request.
    maxRequestBodySize: false,
    parserAndValidationCache: { errorCache: parseFailuresUncached },
    // Never credentials: keys travel in the Authorization header, and Yoga's default (any origin
    // reflected, with credentials) would let every site send a browser's cookies and read the answer.
    cors: http.corsOrigins === 'none' ? false : { origin: http.corsOrigins, credentials: false },
    // The error masker logs what went wrong unexpectedly; yoga's own error log would repeat it.
    logging: false,
    maskedErrors: { maskError: createErrorMasker(logger) },
    context: ({ request, operationSignal, connectionParams }) => {
      // A WebSocket operation carries its key in connectionParams and has no HTTP request of its own.
      const caller = services.auth.authenticate(
        isWebSocketOperation({ operationSignal })
          ? keyInConnectionParams(connectionParams ?? {})
          : bearerKey(request.headers.get('authorization')),
      );
      // useAuthentication and the WebSocket transport refuse such callers before this runs.
      if (!caller) throw unauthenticated();
      return {
        services: servicesForCaller(services, caller),
        caller,
        tenant: caller.tenant,
        requestId: currentRequestId() ?? randomUUID(),
        signal: operationSignal ?? nativeSignal(request.signal),
      };
    },
    plugins: [
      useExactPaths([graphqlEndpoint, healthCheckEndpoint, readinessEndpoint]),
      useCsrfPrevention(),
      useBrowserOriginCheck(http.corsOrigins),
      ...(http.introspection ? [] : [useNoIntrospection()]),
      useReadinessCheck({
        endpoint: readinessEndpoint,
        check: ({ fetchAPI }) => storeReadiness(services.store, fetchAPI.Response),
      }),
      EnvelopArmorPlugin({
        maxDepth: { n: 10 },
        maxAliases: { n: 15 },
        // Each tier has its own maximum: useTierQueryCost.
        costLimit: { enabled: false },
        maxTokens: { n: 2000 },
      }),
      useOperationTelemetry(services.metrics, logger),
      useAuthentication(services.auth, graphqlEndpoint),
      useTierQueryCost(cost),
      useRateLimits(services.rateLimits, services.metrics),
      useErrorCodes(),
      useSingleConnectionSSE({
        endpoint: graphqlEndpoint,
        auth: services.auth,
        rateLimits: services.rateLimits,
        tiers: services.tiers,
        metrics: services.metrics,
        logger,
        reservationIdleMs: options.sseReservationIdleMs,
      }),
      // Last: it wraps whichever request parser the plugins above chose.
      useRequestBodyLimit(http.maxBodyBytes),
    ],
  });

  const mcp = new McpSessions({
    authenticate: (key) => services.auth.authenticate(key),
    servicesFor: (caller) => servicesForCaller(services, caller),
    rateLimits: services.rateLimits,
    cost,
    recordCall: (tool, outcome, seconds) => {
      services.metrics.mcpToolCalls.inc({ tool, outcome });
      services.metrics.mcpToolCallSeconds.observe({ tool, outcome }, seconds);
    },
    maxBodyBytes: http.maxBodyBytes,
  });
  const server = createServer((request, response) => {
    const requestId = requestIdOf(request);
    response.setHeader('x-request-id', requestId);
    if (request.method === 'GET' && request.url === metricsPath) {
      void serveMetrics(services.metrics, http.metricsToken, request, response);
      return;
    }
    if (http.answerPage && isAnswerPageRequest(request)) {
      serveAnswerPage(request, response);
      return;
    }
    if (request.url === mcpPath) {
      // As for GraphQL: a page on another site may not drive a browser to call the tools.
      if (isForeignBrowserRequest(upgradeOriginOf(request), http.corsOrigins)) {
        response.writeHead(403).end();
        return;
      }
      runInRequestScope(
        requestId,
        () =>
          void mcp.serve(request, response).catch((error: unknown) => {
            logger.error({ err: error }, 'An MCP request failed unexpectedly');
            if (!response.headersSent) response.writeHead(500).end();
          }),
      );
      return;
    }
    runInRequestScope(requestId, () => yoga(request, response));
  });
  const webSocket = attachWebSocketTransport(
    server,
    yoga,
    graphqlEndpoint,
    http.maxBodyBytes,
    (request) => !isForeignBrowserRequest(upgradeOriginOf(request), http.corsOrigins),
    (connectionParams) => services.auth.authenticate(keyInConnectionParams(connectionParams ?? {})) !== null,
  );
  await listen(server, options.host, options.port);
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    graphqlUrl: `http://${host}:${port}/graphql`,
    port,
    close: async () => {
      mcp.close();
      await webSocket.close();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function unauthenticated(): RagqlError {
  return new RagqlError('UNAUTHENTICATED', unauthenticatedMessage);
}

/** A graphql-ws client's key: `{ authorization: "Bearer <key>" }`, or `{ apiKey: "<key>" }`. */
function keyInConnectionParams(params: Readonly<Record<string, unknown>>): string | null {
  const authorization = params.authorization ?? params.Authorization;
  if (authorization !== undefined) return bearerKey(authorization);
  return typeof params.apiKey === 'string' && params.apiKey !== '' ? params.apiKey : null;
}

function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && acceptableRequestId.test(sent) ? sent : randomUUID();
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** /readyz: 200 when the store serves, else 503 with the store's reason as plain text. */
async function storeReadiness(
  store: StoreEngine,
  ResponseClass: typeof Response,
): Promise<boolean | Response> {
  const readiness = await store.readiness();
  if (readiness.ready) return true;
  return new ResponseClass(`not ready: ${readiness.reason}\n`, {
    status: 503,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}

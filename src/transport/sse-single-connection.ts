/**
 * The single-connection mode of the GraphQL over SSE protocol (graphql-sse), on the GraphQL path
 * itself. Yoga serves the protocol's distinct-connections mode by itself (a POST that accepts
 * text/event-stream); single-connection mode reserves a stream with PUT and then names it by
 * token, so only such requests are handed to graphql-sse's handler and every other request keeps
 * its ordinary GraphQL-over-HTTP meaning.
 *
 * ragql builds graphql-sse's handler itself (rather than through @graphql-yoga/plugin-graphql-sse)
 * because a reserved stream lives inside the handler until it is opened and closed: only the
 * handler's owner can release one whose client never came back.
 */
import { type DocumentNode, type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import type { RequestParams } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import type { FetchAPI, Plugin } from 'graphql-yoga';
import { type Authenticator, bearerKey, type Caller } from '../access/api-keys.ts';
import { type RateLimits, streamRetrySeconds } from '../access/rate-limits.ts';
import type { Tier } from '../access/tiers.ts';
import { RagqlError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { withoutHttpExtensions } from './http-extension.ts';
import { StreamReservations } from './stream-reservations.ts';

/** The header graphql-sse names a reserved stream by; EventSource clients send `?token=` instead. */
const streamTokenHeader = 'x-graphql-event-stream-token';

/** How long a reservation may wait to be opened before it expires. */
const defaultReservationIdleMs = 10 * 60_000;
/** Reservations waiting at once, over every key; beyond it the least recently used expires. */
const maxReservations = 10_000;

export interface SingleConnectionOptions {
  endpoint: string;
  /** Who reserved a stream: only the same key may open it, send operations on it or end them. */
  auth: Authenticator;
  /** A reservation counts as one request against the caller's requests per minute. */
  rateLimits: RateLimits;
  /**
   * The tiers by name: a key may have as many reservations waiting to be opened as its tier has
   * concurrent streams.
   */
  tiers: Readonly<Record<string, Tier>>;
  /** Refused reservations count in `ragql_rate_limit_rejections_total`. */
  metrics: Metrics;
  logger: Logger;
  /**
   * How long a reservation may wait to be opened, from its last use; then its stream is released
   * and its token is unknown.
   * @default defaultReservationIdleMs (10 minutes)
   */
  reservationIdleMs?: number;
}

type Handler = (request: Request) => Promise<Response>;

export function useSingleConnectionSSE(options: SingleConnectionOptions): Plugin {
  const { endpoint, auth, rateLimits, tiers, metrics, logger } = options;
  let handler: Handler | undefined;
  let fetchAPI: FetchAPI | undefined;
  /** The server context of each request, for the operations it sends. */
  const serverContexts = new WeakMap<Request, object>();
  /** The token each PUT reserved, to give back when graphql-sse refuses the PUT after all. */
  const reservedBy = new WeakMap<Request, string>();
  /** The requests ragql sends itself to release a stream. */
  const releases = new WeakSet<Request>();

  /** graphql-sse lets go of a reserved stream only when it ends: ragql opens it and closes it. */
  const release = async (token: string) => {
    if (!handler || !fetchAPI) return;
    const request = new fetchAPI.Request(`http://localhost${endpoint}`, {
      headers: { accept: 'text/event-stream', [streamTokenHeader]: token },
    });
    releases.add(request);
    const response = await handler(request);
    // Ends the stream's operations (stopping their model calls) and forgets the stream.
    await response.body?.cancel();
  };
  const reservations = new StreamReservations({
    idleMs: options.reservationIdleMs ?? defaultReservationIdleMs,
    max: maxReservations,
    onExpired: (token) => {
      release(token).catch((error: unknown) => {
        logger.warn({ err: error }, 'An expired SSE reservation could not be released');
      });
    },
  });

  /** A PUT: a new token for the caller, within its requests per minute and its reservations. */
  const reserve = async (request: Request, caller: Caller) => {
    try {
      await rateLimits.admitRequest(caller);
    } catch (error) {
      if (!(error instanceof RagqlError && error.code === 'RATE_LIMITED')) throw error;
      return rateLimited(caller, error);
    }
    const limit = tierOf(tiers, caller).concurrentStreams;
    const token = reservations.reserve(caller.keyId, limit);
    if (!token) {
      return rateLimited(
        caller,
        new RagqlError(
          'RATE_LIMITED',
          `The ${caller.tier} tier allows ${limit} reserved streams waiting to be opened; open one or retry in ${streamRetrySeconds} s.`,
          { retryAfter: streamRetrySeconds, limit: 'reservedStreams' },
        ),
      );
    }
    reservedBy.set(request, token);
    return token;
  };
  const rateLimited = (caller: Caller, refusal: RagqlError) => {
    metrics.rateLimitRejections.inc({ tier: caller.tier, limit: String(refusal.details?.limit) });
    return refusalResponse(429, 'RATE_LIMITED', refusal.message, refusal.details);
  };

  return {
    onYogaInit({ yoga }) {
      fetchAPI = yoga.fetchAPI;
      handler = createHandler(
        {
          // graphql-sse's own default accepts any token a client names and makes new ones with
          // Math.random(), so one caller could open, feed or cancel another's stream.
          authenticate: async ({ raw: request }) => {
            const named = tokenOf(request);
            if (releases.has(request)) return named;
            // Authentication (useAuthentication) has already refused requests without a valid key.
            const caller = auth.authenticate(bearerKey(request.headers.get('authorization')));
            if (!caller) return refusalResponse(401, 'UNAUTHENTICATED', 'A valid API key is required.');
            // A token the PUT names is never reserved, but the PUT is not refused either: graphql-sse's
            // own client sends its previous connection's token again when it reconnects, and reads
            // the new one from ragql's answer.
            if (request.method === 'PUT') return reserve(request, caller);
            // A token this caller did not reserve is answered as one that does not exist.
            if (!named || reservations.ownerOf(named) !== caller.keyId) {
              return refusalResponse(404, 'BAD_REQUEST', 'No stream is reserved under that token.');
            }
            return named;
          },
          onSubscribe: async ({ raw: request }, params) => {
            const enveloped = yoga.getEnveloped({ ...serverContexts.get(request), request, params });
            return operationResult(enveloped, params);
          },
          // The POST that sent the operation has had its answer (202): results travel on the stream.
          onNext: (_context, _request, result) =>
            withoutHttpExtensions(result as ExecutionResult) as ExecutionResult | undefined,
        },
        yoga.fetchAPI,
      );
    },
    async onRequest({ request, url, serverContext, endResponse }) {
      if (!handler || !fetchAPI || url.pathname !== endpoint) return;
      if (!isSingleConnectionRequest(request, url)) return;
      serverContexts.set(request, serverContext);
      const response = await handler(request);
      const reserved = reservedBy.get(request);
      // Refused after ragql chose the token (an Accept it cannot answer): the token was never given out.
      if (reserved && response.status !== 201) reservations.closed(reserved);
      const token = tokenOf(request);
      if (token && reservations.isWaiting(token) && isEventStream(response)) {
        reservations.opened(token);
        const closed = () => reservations.closed(token);
        request.signal.addEventListener('abort', closed, { once: true });
        endResponse(
          new fetchAPI.Response(whenEnded(response.body, closed, fetchAPI.ReadableStream), {
            status: response.status,
            statusText: response.statusText,
            headers: response.headers,
          }),
        );
        return;
      }
      endResponse(response);
    },
  };
}

/** Yoga's envelop for one operation, as a plugin's Yoga instance makes it. */
type Enveloped = ReturnType<Parameters<NonNullable<Plugin['onYogaInit']>>[0]['yoga']['getEnveloped']>;

/** The operation run through Yoga's envelop (masking, armor, rate limits and error codes apply). */
async function operationResult(
  { parse, validate, schema, contextFactory, execute, subscribe }: Enveloped,
  params: RequestParams,
): Promise<ExecutionResult | AsyncIterable<ExecutionResult>> {
  let document: DocumentNode;
  try {
    document = parse(params.query);
  } catch (error) {
    return deliverable({ errors: [error as GraphQLError] });
  }
  const errors = validate(schema, document);
  if (errors.length > 0) return deliverable({ errors });
  const args = {
    schema,
    document,
    contextValue: await contextFactory(),
    variableValues: params.variables,
    operationName: params.operationName,
  };
  const isSubscription = getOperationAST(document, params.operationName)?.operation === 'subscription';
  const result: ExecutionResult | AsyncIterable<ExecutionResult> = await (isSubscription
    ? subscribe(args)
    : execute(args));
  return isAsyncIterable(result) ? result : deliverable(result);
}

/**
 * A result refused before execution (bad syntax, validation, a rate limit) has errors and no
 * `data`; graphql-sse recognises results by their `data` key and would answer 400 "Unable to
 * detect operation AST" (or fail with 500) instead of delivering the errors. `data: null` is what
 * GraphQL itself gives a failed query.
 */
function deliverable(result: ExecutionResult): ExecutionResult {
  return 'data' in result ? result : { ...result, data: null };
}

/** The body, calling `ended` once it closes, fails or is cancelled (whichever comes first). */
function whenEnded(
  body: ReadableStream<Uint8Array> | null,
  ended: () => void,
  ReadableStreamClass: typeof ReadableStream,
): ReadableStream<Uint8Array> | null {
  if (!body) return body;
  const reader = body.getReader();
  return new ReadableStreamClass<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          ended();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        ended();
        controller.error(error);
      }
    },
    async cancel(reason) {
      ended();
      await reader.cancel(reason);
    },
  });
}

function tierOf(tiers: Readonly<Record<string, Tier>>, caller: Caller): Tier {
  const tier = tiers[caller.tier];
  if (!tier) throw new Error(`Caller's tier "${caller.tier}" has no limits`);
  return tier;
}

/** A reserved stream's token as the request names it (header, or `?token=` for EventSource). */
function tokenOf(request: Request): string | null {
  const header = request.headers.get(streamTokenHeader);
  if (header) return header;
  return new URL(request.url, 'http://localhost/').searchParams.get('token');
}

/** A refusal in graphql-sse's response form, a GraphQL error with a code. */
function refusalResponse(
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): [string, { status: number; statusText: string; headers: Record<string, string> }] {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (details.retryAfter !== undefined) headers['retry-after'] = String(details.retryAfter);
  const body = { errors: [{ message, extensions: { ...details, code } }] };
  return [JSON.stringify(body), { status, statusText: code, headers }];
}

function isEventStream(response: Response): boolean {
  return response.status === 200 && !!response.headers.get('content-type')?.startsWith('text/event-stream');
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}

/** `url` is the request's, as Yoga parsed it once for every plugin. */
function isSingleConnectionRequest(request: Request, url: URL): boolean {
  if (request.method === 'PUT' || request.headers.has(streamTokenHeader)) return true;
  return url.searchParams.has('token');
}

/**
 * The single-connection mode of the GraphQL over SSE protocol (graphql-sse), on the GraphQL path
 * itself. Yoga serves the protocol's distinct-connections mode by itself (a POST that accepts
 * text/event-stream); single-connection mode reserves a stream with PUT and then names it by
 * token, so only such requests are handed to graphql-sse's handler and every other request keeps
 * its ordinary GraphQL-over-HTTP meaning.
 */
import { randomUUID } from 'node:crypto';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { RagqlError } from '../errors.ts';
import { type Authenticator, bearerKey } from '../gateway/api-keys.ts';
import type { RateLimits } from '../gateway/rate-limits.ts';

/** The header graphql-sse names a reserved stream by; EventSource clients send `?token=` instead. */
const streamTokenHeader = 'x-graphql-event-stream-token';

export interface SingleConnectionOptions {
  endpoint: string;
  /** Who reserved a stream: only the same key may open it, send operations on it or end them. */
  auth: Authenticator;
  /** A reservation counts as one request against the caller's requests per minute. */
  rateLimits: RateLimits;
}

/** Reservations remembered at once; the least recently used beyond this is forgotten (refused). */
const maxReservations = 10_000;
/** A reservation unused this long is forgotten: its token is refused from then on. */
const reservationIdleMs = 10 * 60_000;

export function useSingleConnectionSSE({ endpoint, auth, rateLimits }: SingleConnectionOptions): Plugin {
  /** Token → the key id of the caller that reserved it. */
  const reservations = new LRUCache<string, string>({
    max: maxReservations,
    ttl: reservationIdleMs,
    updateAgeOnGet: true,
  });
  const plugin = useGraphQLSSE({
    endpoint,
    // graphql-sse's own default accepts any token a client names and makes new ones with
    // Math.random(), so one caller could open, feed or cancel another's stream.
    authenticate: async (request) => {
      // Authentication (useAuthentication) has already refused requests without a valid key.
      const caller = auth.authenticate(bearerKey(request.headers.get('authorization')));
      if (!caller) return refusal(401, 'UNAUTHENTICATED', 'A valid API key is required.');
      const named = tokenOf(request);
      if (request.method === 'PUT') {
        if (named)
          return refusal(400, 'BAD_REQUEST', 'ragql chooses stream tokens; send the PUT without one.');
        try {
          await rateLimits.admitRequest(caller);
        } catch (error) {
          if (error instanceof RagqlError && error.code === 'RATE_LIMITED') {
            return refusal(429, 'RATE_LIMITED', error.message, error.details?.retryAfter);
          }
          throw error;
        }
        const token = randomUUID();
        reservations.set(token, caller.keyId);
        return token;
      }
      // A token this caller did not reserve is answered as one that does not exist.
      if (named && reservations.get(named) !== caller.keyId) {
        return refusal(404, 'BAD_REQUEST', 'No stream is reserved under that token.');
      }
      return named ?? undefined;
    },
  });
  return {
    ...plugin,
    onRequest(payload) {
      if (isSingleConnectionRequest(payload.request, payload.url)) return plugin.onRequest?.(payload);
    },
    onSubscribe() {
      return {
        // A subscription refused before its first event (bad input) is a result with errors and no
        // `data`; graphql-sse recognises results by their `data` key and would answer 400 "Unable
        // to detect operation AST" instead of delivering the errors. `data: null` is what GraphQL
        // itself gives a failed query.
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result) && !('data' in result)) setResult({ ...result, data: null });
        },
      };
    },
  };
}

/** A reserved stream's token as the request names it (header, or `?token=` for EventSource). */
function tokenOf(request: {
  headers: { get(name: string): string | null | undefined };
  url?: string;
}): string | null {
  const header = request.headers.get(streamTokenHeader);
  if (header) return header;
  return new URL(request.url ?? '', 'http://localhost/').searchParams.get('token');
}

/** A refusal in graphql-sse's response form, a GraphQL error with a code. */
function refusal(
  status: number,
  code: string,
  message: string,
  retryAfter?: unknown,
): [string, { status: number; statusText: string; headers: Record<string, string> }] {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  const extensions = retryAfter === undefined ? { code } : { code, retryAfter };
  return [JSON.stringify({ errors: [{ message, extensions }] }), { status, statusText: code, headers }];
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}

/** `url` is the request's, as Yoga parsed it once for every plugin. */
function isSingleConnectionRequest(request: Request, url: URL): boolean {
  if (request.method === 'PUT' || request.headers.has(streamTokenHeader)) return true;
  return url.searchParams.has('token');
}

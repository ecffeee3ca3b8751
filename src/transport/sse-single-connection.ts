/**
 * The single-connection mode of the GraphQL over SSE protocol (graphql-sse), on the GraphQL path
 * itself. Yoga serves the protocol's distinct-connections mode by itself (a POST that accepts
 * text/event-stream); single-connection mode reserves a stream with PUT and then names it by
 * token, so only such requests are handed to graphql-sse's handler and every other request keeps
 * its ordinary GraphQL-over-HTTP meaning.
 */
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';

/** The header graphql-sse names a reserved stream by; EventSource clients send `?token=` instead. */
const streamTokenHeader = 'x-graphql-event-stream-token';

export function useSingleConnectionSSE(endpoint: string): Plugin {
  const plugin = useGraphQLSSE({ endpoint });
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

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}

/** `url` is the request's, as Yoga parsed it once for every plugin. */
function isSingleConnectionRequest(request: Request, url: URL): boolean {
  if (request.method === 'PUT' || request.headers.has(streamTokenHeader)) return true;
  return url.searchParams.has('token');
}

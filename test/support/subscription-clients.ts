/**
 * Real subscription clients for each transport ragql serves on /graphql: graphql-ws over
 * WebSocket, and graphql-sse over Server-Sent Events in both of its modes.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type ExecutionResult, print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWebSocketClient } from 'graphql-ws';

export type Transport = 'websocket' | 'sse-distinct' | 'sse-single';

export const transports: Transport[] = ['websocket', 'sse-distinct', 'sse-single'];

export interface SubscriptionClient {
  subscribe<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): AsyncIterableIterator<ExecutionResult<TResult>>;
  /** Closes the connection (WebSocket, or the single SSE stream). */
  dispose(): Promise<void>;
}

/** A client of one transport; with `apiKey`, it authenticates as ragql's clients do on that transport. */
export function subscriptionClient(
  transport: Transport,
  graphqlUrl: string,
  apiKey?: string,
): SubscriptionClient {
  const authorization = apiKey === undefined ? undefined : `Bearer ${apiKey}`;
  if (transport === 'websocket') {
    // Node's own WebSocket (the WHATWG one browsers have), which graphql-ws takes by default.
    const client = createWebSocketClient({
      url: graphqlUrl.replace(/^http/, 'ws'),
      retryAttempts: 0,
      ...(authorization ? { connectionParams: { authorization } } : {}),
    });
    return {
      subscribe: (document, variables) =>
        client.iterate({ query: print(document), variables: variables as Record<string, unknown> }) as never,
      dispose: async () => client.dispose(),
    };
  }
  const client = createSseClient({
    url: graphqlUrl,
    singleConnection: transport === 'sse-single',
    retryAttempts: 0,
    ...(authorization ? { headers: { authorization } } : {}),
  });
  return {
    subscribe: (document, variables) =>
      client.iterate({ query: print(document), variables: variables as Record<string, unknown> }) as never,
    dispose: async () => client.dispose(),
  };
}

/** Every result of a subscription until it completes. */
export async function collect<T>(results: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const result of results) collected.push(result);
  return collected;
}

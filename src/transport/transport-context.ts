/** What a transport adds to the context Yoga starts each operation with. */
export interface TransportContext {
  /**
   * Aborts when the client leaves the operation, for transports whose operations outlive or do not
   * have an HTTP request of their own (WebSocket). Absent: the HTTP request's signal serves.
   */
  operationSignal?: AbortSignal;
  /** What a graphql-ws client sent in its connection_init (where its API key travels). */
  connectionParams?: Readonly<Record<string, unknown>>;
}

/** A graphql-ws operation: it has a signal of its own and no HTTP request (nor HTTP response). */
export function isWebSocketOperation(context: TransportContext): boolean {
  return context.operationSignal !== undefined;
}

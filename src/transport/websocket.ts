/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the HTTP server's own port and path, run
 * through the same Yoga instance as HTTP, so its plugins (error masking, armor, error codes) apply.
 */
import type { IncomingMessage, Server } from 'node:http';
import { type GraphQLError, getOperationAST } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { ClientGoneError } from '../abort.ts';
import type { RagqlContext } from '../schema/index.ts';
import { withoutHttpExtension, withoutHttpExtensions } from './http-extension.ts';
import type { TransportContext } from './transport-context.ts';

type Enveloped = ReturnType<YogaServerInstance<TransportContext, RagqlContext>['getEnveloped']>;
/** Yoga's enveloped execute and subscribe, passed to graphql-ws's hooks as the root value. */
type EnvelopedRoot = Pick<Enveloped, 'execute' | 'subscribe'>;

export interface WebSocketTransport {
  /** Ends every subscription (stopping their upstream work) and closes every socket. */
  close(): Promise<void>;
}

export function attachWebSocketTransport(
  server: Server,
  yoga: YogaServerInstance<TransportContext, RagqlContext>,
  path: string,
  /** The largest message a client may send; a larger one closes its socket (1009). */
  maxPayload: number,
  /** Whether an upgrade request may become a socket (its origin); a refusal answers 403. */
  acceptsUpgrade: (request: IncomingMessage) => boolean,
  /** Whether a connection may open, from its connection_init payload; a refusal closes it with 4403. */
  admit: (connectionParams: Readonly<Record<string, unknown>> | undefined) => boolean,
): WebSocketTransport {
  const webSocketServer = new WebSocketServer({
    server,
    path,
    maxPayload,
    verifyClient: ({ req }, accept) => (acceptsUpgrade(req) ? accept(true) : accept(false, 403)),
  });
  // One controller per operation, by connection (operation ids are the client's, unique only
  // within its connection): completing an operation or closing the socket aborts its signal,
  // which stops retrieval and the model mid-request.
  const operationsOf = new WeakMap<object, Map<string, AbortController>>();
  const operationsOfConnection = (connection: object) => {
    let operations = operationsOf.get(connection);
    if (!operations) {
      operations = new Map();
      operationsOf.set(connection, operations);
    }
    return operations;
  };
  const finishOperation = (connection: object, id: string) => {
    const operations = operationsOfConnection(connection);
    operations.get(id)?.abort(new ClientGoneError());
    operations.delete(id);
  };

  const disposable = useServer<Record<string, unknown>, { request: unknown; socket: unknown }>(
    {
      onConnect: (context) => admit(context.connectionParams),
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (context, id, payload) => {
        const controller = new AbortController();
        operationsOfConnection(context).set(id, controller);
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...context,
          req: context.extra.request,
          socket: context.extra.socket,
          params: payload,
          operationSignal: controller.signal,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as never];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        // graphql-ws would refuse it too, but with a message of its own and no code.
        if (!getOperationAST(document, payload.operationName)) return [operationResolutionFailure()];
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
      },
      onError: (_context, _id, _payload, errors) => errors.map(withoutHttpExtension),
      onNext: (_context, _id, _payload, _args, result) => withoutHttpExtensions(result),
      onComplete: (context, id) => finishOperation(context, id),
      onClose: (context) => {
        for (const id of operationsOfConnection(context).keys()) finishOperation(context, id);
      },
    },
    webSocketServer,
  );

  return {
    async close() {
      await disposable.dispose();
    },
  };
}

/** Yoga's error over HTTP for a document without the named (or a single) operation. */
function operationResolutionFailure(): GraphQLError {
  return createGraphQLError('Could not determine what operation to execute.', {
    extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
  });
}

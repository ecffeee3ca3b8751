import type { IncomingMessage, ServerResponse } from 'node:http';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Methods whose requests carry a body (GraphQL POST; graphql-sse's PUT reserves a stream). */
const methodsWithBody = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Refuses, before anything reads it, a request body larger than `maxBytes` (413), or one of
 * unknown length (411): a chunked body could only be measured by reading it. Returns whether it
 * answered the request.
 */
export function refuseOversizedBody(
  request: IncomingMessage,
  response: ServerResponse,
  maxBytes: number,
): boolean {
  if (!methodsWithBody.has(request.method ?? 'GET')) return false;
  const declared = request.headers['content-length'];
  const refusal =
    declared === undefined
      ? request.headers['transfer-encoding']
        ? {
            status: 411,
            code: 'LENGTH_REQUIRED',
            message: 'Send the request body with a Content-Length header.',
          }
        : null
      : Number(declared) > maxBytes
        ? {
            status: 413,
            code: 'PAYLOAD_TOO_LARGE',
            message: `The request body is larger than the ${maxBytes} bytes this server accepts.`,
          }
        : null;
  if (!refusal) return false;
  response.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close' });
  response.end(
    JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }),
  );
  // Whatever the client still sends is not read.
  request.resume();
  return true;
}

/** Refuses queries that introspect the schema (GRAPHQL_VALIDATION_FAILED), for production. */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

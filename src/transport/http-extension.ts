import type { ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';

/**
 * Errors built for HTTP carry the status Yoga should answer with (`extensions.http`). A result sent
 * as a message on a stream of many (a WebSocket, a single-connection SSE stream) has no status of
 * its own, and the extension would only tell clients about ragql's HTTP side.
 */
export function withoutHttpExtension(error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  const formatted = 'toJSON' in error ? error.toJSON() : error;
  if (!formatted.extensions || !('http' in formatted.extensions)) return formatted;
  const { http: _status, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

/** The result as sent, when an error in it has an `http` extension; otherwise undefined (send it as it is). */
export function withoutHttpExtensions(result: ExecutionResult): FormattedExecutionResult | undefined {
  if (!result.errors?.some((error) => error.extensions && 'http' in error.extensions)) return undefined;
  return { ...result, errors: result.errors.map(withoutHttpExtension) };
}

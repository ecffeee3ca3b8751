/**
 * What clients see of a failure, in one place: every error reaches them with `extensions.code`,
 * expected failures keep their message, and nothing else leaves the server but a request id.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ClientGoneError } from '../abort.ts';
import { RagqlError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { currentRequestId } from '../observability/request-context.ts';
/**
 * What clients see of a failure. Expected failures (RagqlError) keep their message and gain
 * `extensions.code`; errors GraphQL itself raised (validation, armor's limits, variable coercion)
 * pass with a code; anything else is logged in full and reaches the client only as
 * "Unexpected error." with the request id, never a stack trace or an upstream's secrets.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const outer = isGraphQLError(error) ? error : undefined;
    const cause = innermostCause(error);
    const location = {
      nodes: outer?.nodes,
      path: outer?.path,
      source: outer?.source,
      positions: outer?.positions,
    };
    if (cause instanceof RagqlError) {
      if (['UPSTREAM_FAILED', 'UPSTREAM_UNAVAILABLE', 'PLUGIN_FAILED'].includes(cause.code)) {
        logger.warn({ err: cause.cause ?? cause }, cause.message);
      }
      return new GraphQLError(cause.message, {
        ...location,
        extensions: { code: cause.code, ...cause.details },
      });
    }
    if (isPothosValidationError(cause)) {
      return new GraphQLError(cause.message, { ...location, extensions: { code: 'BAD_USER_INPUT' } });
    }
    if (isGraphQLError(cause)) {
      return new GraphQLError(cause.message, {
        ...location,
        extensions: {
          ...cause.extensions,
          code: cause.extensions.code ?? codeFor(cause),
          ...withoutQuotedInput(cause.extensions.originalError),
        },
      });
    }
    const requestId = currentRequestId();
    if (cause instanceof ClientGoneError) {
      logger.info(cause.message);
      return new GraphQLError(cause.message, { ...location, extensions: { code: 'CLIENT_GONE' } });
    }
    logger.error({ err: cause }, 'unexpected error while serving a GraphQL request');
    return new GraphQLError('Unexpected error.', {
      ...location,
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
    });
  };
}

/**
 * Yoga's request parsers attach the JSON parser's own error as `originalError`, whose message
 * quotes the body. Only its name stays: Yoga answers 400 rather than 200 because it is there.
 */
function withoutQuotedInput(originalError: unknown): { originalError?: unknown } {
  if (typeof originalError !== 'object' || originalError === null) return {};
  if (isGraphQLError(originalError)) return { originalError };
  const { name } = originalError as { name?: unknown };
  return { originalError: { name: typeof name === 'string' ? name : 'Error' } };
}

/**
 * Pothos's checks of arguments it defines itself (a connection's negative `first` or `last`): the
 * caller's mistake. By name, as graphql's errors are, in case two copies of Pothos load.
 */
function isPothosValidationError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'PothosValidationError';
}

/** A GraphQL error raised before execution: variables that do not fit, or a rejected document. */
function codeFor(error: GraphQLError): string {
  return error.message.startsWith('Variable "$') ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
}

/**
 * Gives the errors GraphQL raises before execution a code, as execution errors have, so clients
 * branch on `extensions.code` alone: GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED (the names
 * Apollo Server uses). Errors that already carry a code keep it.
 */
export function useErrorCodes(): Plugin {
  return {
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof Error) replaceParseResult(withCode(result, 'GRAPHQL_PARSE_FAILED'));
      };
    },
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
  };
}

function withCode(error: Error, code: string): GraphQLError {
  const graphQLError = isGraphQLError(error) ? error : undefined;
  if (graphQLError?.extensions.code) return graphQLError;
  return new GraphQLError(error.message, {
    nodes: graphQLError?.nodes,
    source: graphQLError?.source,
    positions: graphQLError?.positions,
    originalError: graphQLError?.originalError,
    extensions: { ...graphQLError?.extensions, code },
  });
}

/**
 * Duck-typed on purpose: graphql ships CommonJS and ESM builds, and libraries that load the other
 * one (graphql-armor does) throw GraphQLErrors that fail `instanceof`.
 */
export function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof Error && value.name === 'GraphQLError';
}

/** Executors wrap a resolver's error in one or more GraphQLErrors; this finds what was thrown. */
export function innermostCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}

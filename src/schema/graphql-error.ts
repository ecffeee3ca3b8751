import type { GraphQLError } from 'graphql';

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

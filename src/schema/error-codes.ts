import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isGraphQLError } from './graphql-error.ts';

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

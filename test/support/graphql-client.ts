import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface GraphQLErrorPayload {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<TResult> {
  status: number;
  data?: TResult | null;
  errors?: GraphQLErrorPayload[];
}

/** Sends typed operations to a ragql server over HTTP, exactly as a frontend would (with `apiKey`, as a bearer token). */
export function graphqlClient(url: string, apiKey?: string) {
  return async function execute<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    // Optional when every variable is: a query with none, or with only optional ones.
    ...[variables]: Record<string, never> extends TVariables
      ? [variables?: TVariables]
      : [variables: TVariables]
  ): Promise<GraphQLResponse<TResult>> {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return {
      status: response.status,
      ...((await response.json()) as Omit<GraphQLResponse<TResult>, 'status'>),
    };
  };
}

/** The data of a response that must have succeeded; fails the test with the errors otherwise. */
export function dataOf<TResult>(response: GraphQLResponse<TResult>): TResult {
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL request failed: ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}

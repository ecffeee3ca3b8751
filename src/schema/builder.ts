import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { createGraphQLError } from 'graphql-yoga';
import type { RagqlContext } from './context.ts';

export const builder = new SchemaBuilder<{
  Context: RagqlContext;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
    File: { Input: File; Output: never };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [DataloaderPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: { nodeQueryOptions: false, nodesQueryOptions: false },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTimeResolver);
// Yoga reads multipart requests (the GraphQL multipart request spec) and puts each file in its place
// in the variables, as a web File.
builder.scalarType('File', {
  description: 'A file sent in a multipart request (the GraphQL multipart request spec).',
  serialize: () => {
    throw new Error('A File is only ever input.');
  },
  parseValue: (value) => {
    if (isFile(value)) return value;
    throw createGraphQLError('Expected a file sent as a part of a multipart request.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  },
});
/** A web File: Yoga's own (from @whatwg-node/fetch) or Node's, which are different classes. */
function isFile(value: unknown): value is File {
  const file = value as Partial<File> | null;
  return typeof file?.name === 'string' && typeof file.arrayBuffer === 'function';
}

builder.queryType({});
builder.mutationType({});

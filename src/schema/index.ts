import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './documents.ts';
import './search.ts';
import './answers.ts';
import './plugins.ts';
import './server-info.ts';
import './usage.ts';
import './operations.ts';

export type { CallerServices, RagqlContext } from './context.ts';

/** The whole GraphQL schema; it needs no services, so tooling can print it without a config. */
export const schema = builder.toSchema();

/** The SDL as checked in at schema.graphql. Sorted, so the file changes only when the schema does. */
export function printRagqlSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

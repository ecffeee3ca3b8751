/**
 * The embedded store, end to end over GraphQL: the cases every store runs
 * (test/support/store-end-to-end.ts), on the reference store the others are held to.
 */
import { describe } from 'vitest';
import { withStandinEmbeddings } from '../support/ragql-environment.ts';
import { storeEndToEndCases } from '../support/store-end-to-end.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the GraphQL API on the embedded store', () => {
  const standin = useOpenAIStandin({ dimensions: 64 });
  const ragql = useRagql(() => withStandinEmbeddings(standin, 64));

  storeEndToEndCases('embedded', ragql, standin);
});

/**
 * GraphQL over HTTP conformance: graphql-http's audit suite against the running server. Plain
 * graphql-yoga passes every audit; ragql's plugins (authentication, rate limits, query cost,
 * error codes, metrics, the single-connection SSE handler) must not break any.
 */
import { serverAudits } from 'graphql-http';
import { describe, expect, it } from 'vitest';
import { useRagql } from '../support/use-ragql.ts';

describe('GraphQL over HTTP conformance (graphql-http audits)', () => {
  const ragql = useRagql();

  it('passes every audit, requirements and recommendations alike', async () => {
    const audits = serverAudits({ url: ragql.server.graphqlUrl });
    const results = [];
    for (const audit of audits) results.push(await audit.fn());
    const failures = results.flatMap((result) =>
      result.status === 'ok' ? [] : [`${result.id} ${result.status}: ${result.name}: ${result.reason}`],
    );
    expect(failures).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(61);
  });
});

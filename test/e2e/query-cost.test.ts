/** Query cost limits per tier (graphql-armor's cost, each tier's maximum), over HTTP and WebSocket. */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';

const free = createApiKey();
const pro = createApiKey();
/** Ten full searches in one request: about 650 by graphql-armor's count. */
const costlyQuery = `query Costly { ${Array.from(
  { length: 10 },
  (_, index) =>
    `s${index}: search(query: "tides") { mode hits { score scores { keyword vector fused } chunk { id index content document { id title source metadata } } } }`,
).join(' ')} }`;

describe('query cost limits per tier', () => {
  const post = (key: string) =>
    fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: costlyQuery }),
    });

  const ragql = useRagql((dataDir) =>
    withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'cheap', tier: 'free', hash: free.hash },
        { tenant: 'rich', tier: 'pro', hash: pro.hash },
      ],
    }),
  );

  it("runs a query within the caller's tier, and refuses the same query to a tier that allows less", async () => {
    // The richer tier first: a verdict cached for one tier must not serve another.
    const allowed = await post(pro.key);
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { errors?: unknown }).errors).toBeUndefined();

    const refused = await post(free.key);
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as {
      data?: unknown;
      errors: { message: string; extensions: object }[];
    };
    expect(body.data ?? null).toBeNull();
    expect(body.errors[0]?.extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      maxQueryCost: defaultTiers.free.maxQueryCost,
    });
    expect(body.errors[0]?.message).toMatch(/cost/i);
    expect(body.errors[0]?.message).toContain('free tier');
  });

  it('refuses a costly subscription over graphql-ws the same way', async () => {
    const subscription = `subscription Costly { answerStream(question: "tides") { __typename ${Array.from(
      // Within the alias limit (15): the cost, not the aliases, is what is refused.
      { length: 12 },
      (_, index) =>
        `... on AnswerSources { a${index}: sources { score scores { keyword vector fused } chunk { id index content document { id title source metadata } } } }`,
    ).join(' ')} } }`;
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl, free.key);
    try {
      const document = parse(subscription) as TypedDocumentNode<unknown, Record<string, never>>;
      const outcome = await collect(client.subscribe(document, {})).catch((error: unknown) => error);
      expect(JSON.stringify(outcome)).toMatch(/Query Cost limit of 600 exceeded/);
      expect(JSON.stringify(outcome)).toMatch(/GRAPHQL_VALIDATION_FAILED/);
    } finally {
      await client.dispose();
    }
  });
});

/**
 * The answer cache: the same tenant asking the same model the same prompt gets the earlier answer
 * without a model call, unless it asks with cache: false; another tenant never gets it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { CachedAnswerDocument, IngestDocumentsDocument } from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the answer cache', () => {
  const acme = createApiKey();
  const globex = createApiKey();
  const standin = useOpenAIStandin();
  const chatCalls = () => standin.chatStreams.length;
  const as = (key: string) => graphqlClient(ragql.server.graphqlUrl, key);

  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'acme', tier: 'pro', hash: acme.hash },
        { tenant: 'globex', tier: 'pro', hash: globex.hash },
      ],
    }),
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'standin-chat',
    OPENAI_API_KEY: 'sk-test-key-123456',
    OPENAI_BASE_URL: standin.baseURL,
  }));
  beforeAll(async () => {
    // The same document in both tenants: the prompts are identical, only the tenant differs.
    const documents = [{ id: 'tides', content: 'The moon pulls the tides twice a day.' }];
    for (const key of [acme.key, globex.key]) dataOf(await as(key)(IngestDocumentsDocument, { documents }));
  });

  it('answers a repeated question from the cache, free, and asks the model again on request', async () => {
    const question = 'What pulls the tides?';
    const first = dataOf(await as(acme.key)(CachedAnswerDocument, { question })).answer;
    const calls = chatCalls();
    expect(first.cached).toBe(false);
    expect(first.usage.totalTokens).toBeGreaterThan(0);

    const second = dataOf(await as(acme.key)(CachedAnswerDocument, { question })).answer;
    expect(chatCalls()).toBe(calls);
    expect(second).toMatchObject({ text: first.text, cached: true, usage: { totalTokens: 0 } });

    const fresh = dataOf(await as(acme.key)(CachedAnswerDocument, { question, cache: false })).answer;
    expect(chatCalls()).toBe(calls + 1);
    expect(fresh.cached).toBe(false);
  });

  it("never serves one tenant's cached answer to another", async () => {
    const question = 'How often do the tides turn?';
    standin.scriptNextChat({ reply: 'An answer only acme was given [1]' });
    dataOf(await as(acme.key)(CachedAnswerDocument, { question }));
    const calls = chatCalls();
    const other = dataOf(await as(globex.key)(CachedAnswerDocument, { question })).answer;
    expect(chatCalls()).toBe(calls + 1);
    expect(other.cached).toBe(false);
    expect(other.text).not.toContain('only acme');
  });
});

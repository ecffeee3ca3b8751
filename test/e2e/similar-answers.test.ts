/**
 * The similar-answer cache over GraphQL: a question whose embedding is within the threshold of an
 * earlier one of the same tenant, on the same sources, is answered with that question's answer
 * (cached, cacheMatch naming it) without asking the model; a question less close, another
 * tenant's, or one whose sources changed is asked afresh. Embeddings and answers come from the
 * OpenAI stand-in through the real SDK; its embeddings are bags of lowercased words, so a
 * question of the same words in another order is as close as can be (1), and one of fewer of
 * them measurably less.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { CachedAnswerDocument, IngestDocumentsDocument } from '../generated/graphql.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinChat, withStandinEmbeddings } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const dimensions = 64;
const threshold = 0.9;
const acme = createApiKey();
const globex = createApiKey();
const tides = { id: 'tides', content: 'The moon pulls the tides twice a day. The sea rises and falls.' };
const asked = 'What pulls the tides twice a day?';
const reworded = 'Twice a day, what pulls the tides?';
const shorter = 'What pulls the tides?';

const cosine = (a: string, b: string) => {
  const [x, y] = [deterministicEmbedding(a, dimensions), deterministicEmbedding(b, dimensions)];
  return x.reduce((sum, value, index) => sum + value * (y[index] ?? 0), 0);
};

describe('the similar-answer cache', () => {
  const standin = useOpenAIStandin({ dimensions });
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'acme', tier: 'pro', hash: acme.hash },
        { tenant: 'globex', tier: 'pro', hash: globex.hash },
      ],
    }),
    ...withStandinEmbeddings(standin, dimensions),
    ...withStandinChat(standin),
    RAGQL_SIMILAR_ANSWER_CACHE: 'on',
    RAGQL_SIMILAR_ANSWER_THRESHOLD: String(threshold),
  }));
  const as = (key: string) => graphqlClient(ragql.server.graphqlUrl, key);
  const ask = async (key: string, question: string) => {
    const before = standin.chatStreams.length;
    const { answer } = dataOf(await as(key)(CachedAnswerDocument, { question }));
    return { answer, modelCalls: standin.chatStreams.length - before };
  };

  beforeAll(async () => {
    expect(cosine(asked, reworded)).toBeCloseTo(1, 6);
    expect(cosine(asked, shorter)).toBeLessThan(threshold);
    for (const key of [acme.key, globex.key]) {
      dataOf(await as(key)(IngestDocumentsDocument, { documents: [tides] }));
    }
  });

  it("answers a reworded question with the earlier one's answer, naming it, without asking the model", async () => {
    const first = await ask(acme.key, asked);
    expect(first).toMatchObject({ modelCalls: 1, answer: { cached: false, cacheMatch: null } });
    const again = await ask(acme.key, reworded);
    expect(again.modelCalls).toBe(0);
    expect(again.answer).toMatchObject({ cached: true, text: first.answer.text, usage: { totalTokens: 0 } });
    expect(again.answer.cacheMatch?.question).toBe(asked);
    expect(again.answer.cacheMatch?.similarity).toBeCloseTo(1, 5);
  });

  it('asks the model for a question below the threshold', async () => {
    const less = await ask(acme.key, shorter);
    expect(less).toMatchObject({ modelCalls: 1, answer: { cached: false, cacheMatch: null } });
  });

  it("never serves one tenant's answer to another", async () => {
    const other = await ask(globex.key, reworded);
    expect(other).toMatchObject({ modelCalls: 1, answer: { cached: false, cacheMatch: null } });
  });

  it('asks the model again once a source of the answer changed', async () => {
    const changed = { ...tides, content: `${tides.content} Spring tides follow the full moon.` };
    dataOf(await as(acme.key)(IngestDocumentsDocument, { documents: [changed] }));
    // The very question the first case served from the cache.
    const after = await ask(acme.key, reworded);
    expect(after).toMatchObject({ modelCalls: 1, answer: { cached: false, cacheMatch: null } });
  });
});

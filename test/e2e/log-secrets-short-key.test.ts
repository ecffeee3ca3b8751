/**
 * A provider key shorter than the credential shapes the logger knows (`sk-` followed by 8 or more
 * characters), quoted back by the provider's refusal: the logs still never contain it.
 */
import { describe, expect, it } from 'vitest';
import { AnswerDocument, IngestDocumentsDocument } from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the logs of a server with a short provider key', () => {
  const providerKey = 'abc1234';
  const standin = useOpenAIStandin();

  const ragql = useRagql(() => ({
    LOG_LEVEL: 'trace',
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'standin-chat',
    RAGQL_CHAT_MAX_ATTEMPTS: '1',
    OPENAI_API_KEY: providerKey,
    OPENAI_BASE_URL: standin.baseURL,
  }));

  it('never contains the key, even where an upstream refusal quotes it', async () => {
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon pulls the tides.' }],
      }),
    );
    standin.failNext(401, {
      error: { message: `Incorrect API key provided: ${providerKey}.`, type: 'invalid_request_error' },
    });
    const result = await ragql.execute(AnswerDocument, { question: 'What pulls the tides?' });
    // The refusal happened: the answer came from the fallback.
    expect(dataOf(result).answer.routing.fallbacks).toMatchObject([
      { from: 'standin-chat', to: 'extractive' },
    ]);

    const text = ragql.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(text).toContain('Incorrect API key provided: [redacted].');
    expect(text).not.toContain(providerKey);
  });
});

/**
 * The classifier model's call, on the OpenAI stand-in through the real SDK: it is paid from the
 * caller's token budget (ragql's own, in process), reported with its usage, and its failures
 * leave the question unlabelled instead of failing the answer; only the budget's refusal does.
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/access/api-keys.ts';
import { RateLimits } from '../../src/access/rate-limits.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { QuestionClassifier } from '../../src/gateway/question-classifier.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { TokenUsage } from '../../src/ports.ts';
import { createOpenAIChatModel } from '../../src/providers/openai-chat-model.ts';
import { ragqlRejectionOf } from '../support/rejection.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the classifier model', () => {
  const standin = useOpenAIStandin();
  const model = () =>
    createOpenAIChatModel({ apiKey: 'sk-test', baseURL: standin.baseURL, model: 'gpt-4o-mini' });
  const calls: TokenUsage[] = [];
  const classifier = new QuestionClassifier({
    settings: { labels: { simple: 'small', complex: 'large' }, timeoutMs: 2000 },
    onCall: async ({ usage }) => void calls.push(usage),
  });
  const request = (question: string, budget: ReturnType<RateLimits['tokenBudget']> | null = null) => ({
    question,
    tenant: 'acme',
    tier: 'tiny',
    budget,
    signal: undefined,
  });

  it('is paid from the caller budget: a day spent refuses the next question', async () => {
    const limits = new RateLimits({
      tiers: { tiny: { ...defaultTiers.free, tokensPerDay: 10 } },
      logger: createLogger('silent'),
    });
    const caller: Caller = { tenant: 'acme', tier: 'tiny', keyId: 'k1', keyName: null, operator: false };
    const budget = limits.tokenBudget(caller);
    standin.scriptNextChat({ reply: 'simple' });
    // The reservation that crosses the day's limit is let through; the next is refused.
    expect(await classifier.classify(request('What pulls the tides?', budget), model())).toEqual({
      label: 'simple',
      by: 'model',
    });
    const refusal = await ragqlRejectionOf(
      classifier.classify(request('When is high water?', budget), model()),
    );
    expect(refusal.code).toBe('RATE_LIMITED');
    await limits.close();
  });

  it('reports each call with the usage the provider gave', async () => {
    calls.length = 0;
    standin.scriptNextChat({ reply: 'complex' });
    await classifier.classify(request('Why do spring tides differ from neap tides?'), model());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.completionTokens).toBe(1);
    expect(calls[0]?.promptTokens).toBeGreaterThan(10);
  });

  it('leaves a question unlabelled when the model fails or names no label, and does not keep that', async () => {
    standin.failNext(400);
    expect(await classifier.classify(request('Where is the harbour?'), model())).toEqual({
      label: null,
      why: 'failed',
    });
    standin.scriptNextChat({ reply: 'It depends on what you mean.' });
    expect(await classifier.classify(request('Where is the harbour?'), model())).toEqual({
      label: null,
      why: 'no label',
    });
    standin.scriptNextChat({ reply: 'Simple' });
    expect(await classifier.classify(request('Where is the harbour?'), model())).toEqual({
      label: 'simple',
      by: 'model',
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatModel, ChatPricing } from '../../src/ports.ts';
import { answerUsage, costOf } from '../../src/rag/answer-usage.ts';
import { countMessageTokens, countTokens } from '../../src/text/token-count.ts';

/** A model as the accounting sees it: an id and a price; it is never asked to stream here. */
function modelPriced(modelId: string, pricing: ChatPricing | null): ChatModel {
  return {
    specificationVersion: 'v1',
    provider: 'test',
    modelId,
    contextWindow: 8192,
    pricing,
    stream: () => {
      throw new Error('accounting never streams');
    },
  };
}

const prompt: ChatMessage[] = [
  { role: 'system', content: 'Answer from the sources.' },
  { role: 'user', content: 'Why do tides rise twice a day?' },
];
const promptTokens = countMessageTokens(prompt);
const primary = modelPriced('primary', { inputUsdPerMillion: 2, outputUsdPerMillion: 8 });
const backup = modelPriced('backup', { inputUsdPerMillion: 1, outputUsdPerMillion: 4 });
const unpriced = modelPriced('unpriced', null);

describe('costOf', () => {
  it('prices prompt and completion tokens at the model’s list price per million', () => {
    const tokens = { promptTokens: 1000, completionTokens: 500, totalTokens: 1500 };
    expect(costOf(primary.pricing, tokens)).toBeCloseTo((1000 * 2 + 500 * 8) / 1e6, 12);
  });

  it('is unknown without a price', () => {
    expect(costOf(null, { promptTokens: 1, completionTokens: 1, totalTokens: 2 })).toBeNull();
  });
});

describe('answerUsage', () => {
  it('takes the tokens the model reported over its own count', () => {
    const reported = { promptTokens: 40, completionTokens: 10, totalTokens: 50 };
    const usage = answerUsage({ prompt, abandoned: [], last: { model: primary, text: 'Moon.' }, reported });
    expect(usage).toEqual({ ...reported, costUsd: costOf(primary.pricing, reported) });
  });

  it('counts the prompt and the text that arrived when the model reported nothing', () => {
    const text = 'Because the moon pulls';
    const usage = answerUsage({ prompt, abandoned: [], last: { model: primary, text }, reported: null });
    expect(usage).toMatchObject({
      promptTokens,
      completionTokens: countTokens(text),
      totalTokens: promptTokens + countTokens(text),
    });
  });

  it('charges a model abandoned for a fallback for what it wrote, at its own price', () => {
    const written = 'The sun and';
    const reported = { promptTokens, completionTokens: 12, totalTokens: promptTokens + 12 };
    const usage = answerUsage({
      prompt,
      abandoned: [{ model: primary, text: written }],
      last: { model: backup, text: 'The moon.' },
      reported,
    });
    const abandonedTokens = {
      promptTokens,
      completionTokens: countTokens(written),
      totalTokens: promptTokens + countTokens(written),
    };
    expect(usage).toMatchObject({
      promptTokens: 2 * promptTokens,
      completionTokens: 12 + countTokens(written),
      totalTokens: reported.totalTokens + abandonedTokens.totalTokens,
    });
    expect(usage.costUsd).toBeCloseTo(
      (costOf(primary.pricing, abandonedTokens) as number) + (costOf(backup.pricing, reported) as number),
      12,
    );
  });

  it('charges nothing for a model abandoned before it wrote, not even its prompt, nor its unknown price', () => {
    const reported = { promptTokens, completionTokens: 12, totalTokens: promptTokens + 12 };
    const last = { model: backup, text: 'The moon.' };
    const alone = answerUsage({ prompt, abandoned: [], last, reported });
    expect(answerUsage({ prompt, abandoned: [{ model: unpriced, text: '' }], last, reported })).toEqual(
      alone,
    );
  });

  it('has no cost when any model it charges has no known price', () => {
    const usage = answerUsage({
      prompt,
      abandoned: [{ model: unpriced, text: 'The sun' }],
      last: { model: primary, text: 'The moon.' },
      reported: null,
    });
    expect(usage.costUsd).toBeNull();
    expect(usage.totalTokens).toBeGreaterThan(2 * promptTokens);
  });

  it('costs nothing when no model was asked', () => {
    const usage = answerUsage({
      prompt: [],
      abandoned: [],
      last: { model: primary, text: '' },
      reported: null,
    });
    expect(usage).toEqual({ promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 });
  });
});

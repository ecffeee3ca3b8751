/**
 * The router refuses, at start, a classifier configuration that could not route as written: a
 * classifier model a tier may not use or that nothing asks for, and heuristic labels with no model.
 */
import { describe, expect, it } from 'vitest';
import { defaultTiers, type Tier } from '../../src/access/tiers.ts';
import { ModelRouter } from '../../src/gateway/model-router.ts';
import { QuestionClassifier } from '../../src/gateway/question-classifier.ts';
import type { ChatModel } from '../../src/ports.ts';
import { createExtractiveModel } from '../../src/providers/extractive.ts';

/** Models that answer without a provider, under the names the configurations use. */
function models(...names: string[]): Map<string, ChatModel> {
  return new Map(names.map((name) => [name, { ...createExtractiveModel(), modelId: name }]));
}

function router(tiers: Record<string, Tier>, labels: Record<string, string> | null) {
  return new ModelRouter({
    models: models('small', 'large', 'extractive'),
    defaultModel: 'small',
    rules: [],
    tiers,
    classifier: labels
      ? new QuestionClassifier({ settings: { labels, timeoutMs: 100 }, onCall: async () => {} })
      : undefined,
  });
}

describe('the classifier configuration', () => {
  it('takes labels the heuristic gives, and a classifier model the tier may use', () => {
    expect(() =>
      router(
        {
          free: { ...defaultTiers.free },
          pro: { ...defaultTiers.pro, models: ['small', 'large', 'extractive'], classifierModel: 'small' },
        },
        { simple: 'small', complex: 'large' },
      ),
    ).not.toThrow();
  });

  it('refuses a classifier model the tier may not use', () => {
    expect(() =>
      router(
        { free: { ...defaultTiers.free, models: ['large'], classifierModel: 'small' } },
        { simple: 'small' },
      ),
    ).toThrow("tier 'free' may not use its classifierModel 'small'");
  });

  it('refuses a classifier model where the config file has no classifier', () => {
    expect(() => router({ free: { ...defaultTiers.free, classifierModel: 'small' } }, null)).toThrow(
      'names a classifierModel, but the config file has no classifier',
    );
  });

  it("refuses labels none of which is the heuristic's, for a tier the heuristic labels", () => {
    expect(() => router({ free: { ...defaultTiers.free } }, { easy: 'small', hard: 'large' })).toThrow(
      "the classifier's labels name none of them",
    );
  });
});

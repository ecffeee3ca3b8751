/**
 * The chat side of the gateway, composed: every configured model, each metered and behind its
 * retries and its provider's circuit, and the router that chooses among them per question.
 */

import { ModelRouter } from '../gateway/model-router.ts';
import { QuestionClassifier } from '../gateway/question-classifier.ts';
import { ProviderCircuits, withResilience } from '../gateway/resilient-chat-model.ts';
import type { Logger } from '../observability/logger.ts';
import { meteredChatModel } from '../observability/metered-models.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ChatModel } from '../ports.ts';
import { createExtractiveModel } from '../providers/extractive.ts';
import type { RagqlConfig } from './config.ts';
import type { ConfigFile } from './config-file.ts';
import { createChatModel } from './create-chat-model.ts';
import { recordModelCall, type UsageRecorder } from './usage-recording.ts';

export interface ChatGateway {
  router: ModelRouter;
}

export function createChatGateway(
  config: Pick<RagqlConfig, 'generator' | 'vendors' | 'resilience' | 'chatIdleTimeoutMs'>,
  file: Pick<ConfigFile, 'models' | 'pricing' | 'routing' | 'tiers' | 'classifier'>,
  metrics: Metrics,
  logger: Logger,
  recordUsage: UsageRecorder,
): ChatGateway {
  const providerModels = [
    createChatModel(config.generator, config.chatIdleTimeoutMs),
    ...file.models.map((entry) =>
      createChatModel(
        {
          kind: entry.provider,
          model: entry.model,
          contextWindow: entry.contextWindow,
          ...config.vendors[entry.provider],
        },
        config.chatIdleTimeoutMs,
      ),
    ),
    createExtractiveModel(),
  ];
  const circuits = new ProviderCircuits(config.resilience);
  const models = new Map<string, ChatModel>();
  for (const model of providerModels) {
    if (models.has(model.modelId)) continue; // the generator's model listed again in the file
    const priced = { ...model, pricing: file.pricing[model.modelId] ?? model.pricing };
    models.set(
      model.modelId,
      withResilience(meteredChatModel(priced, metrics), circuits, config.resilience, {
        onRetry: (retried, delayMs) => {
          metrics.llmRetries.inc({ provider: retried.provider, model: retried.modelId });
          logger.warn({ model: retried.modelId, delayMs }, 'retrying a failed chat request');
        },
      }),
    );
  }
  const defaultName = providerModels[0]?.modelId ?? 'extractive';
  const router = new ModelRouter({
    models,
    defaultModel: defaultName,
    rules: file.routing,
    tiers: file.tiers,
    classifier: file.classifier
      ? new QuestionClassifier({
          settings: file.classifier,
          onCall: ({ tenant, tier, model, usage }) =>
            recordModelCall(recordUsage, tenant, tier, model, usage),
        })
      : undefined,
    events: {
      onFallback: (from, to, error) => {
        metrics.llmFallbacks.inc({ from: from.modelId, to: to.modelId });
        logger.warn({ err: error.cause ?? error, from: from.modelId, to: to.modelId }, error.message);
      },
    },
  });
  return { router };
}

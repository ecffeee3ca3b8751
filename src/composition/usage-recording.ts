import type { UsageLedger } from '../access/usage-ledger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ChatModel, TokenUsage } from '../ports.ts';
import { type AnswerUsage, costOf } from '../rag/index.ts';

/** Records a model call's usage: an answer's (which counts as one), or another call's. */
export type UsageRecorder = (
  tenant: string,
  tier: string,
  model: ChatModel,
  used: AnswerUsage,
  call: { answer: boolean },
) => Promise<void>;

/** Every model call, an answer's, a plugin's or the classifier's, in the token metrics and the tenant's usage. */
export function usageRecorder(metrics: Metrics, usage: UsageLedger): UsageRecorder {
  return async (tenant, tier, model, used, call) => {
    const labels = { model: model.modelId, tier };
    metrics.tokens.inc({ ...labels, kind: 'prompt' }, used.promptTokens);
    metrics.tokens.inc({ ...labels, kind: 'completion' }, used.completionTokens);
    if (used.costUsd) metrics.costUsd.inc({ model: model.modelId }, used.costUsd);
    await usage.record(tenant, model.modelId, used, call);
  };
}

/** A call that is not an answer (a plugin's, the classifier's), priced by its model. */
export function recordModelCall(
  record: UsageRecorder,
  tenant: string,
  tier: string,
  model: ChatModel,
  used: TokenUsage,
): Promise<void> {
  return record(tenant, tier, model, { ...used, costUsd: costOf(model.pricing, used) }, { answer: false });
}

/**
 * What a model call costs: the tokens of every model that wrote part of an answer, priced at
 * each model's list price. Recording the usage (metrics, the usage ledger) is the caller's.
 */
import type { ChatMessage, ChatModel, ChatPricing, TokenUsage } from '../ports.ts';
import { estimateUsage } from '../text/token-count.ts';
import type { AnswerUsage } from './answer-types.ts';

/** One model's go at an answer: what it wrote before it finished or failed. */
export interface AnswerAttempt {
  model: ChatModel;
  text: string;
}

/** Every model that worked on one answer, and what each was given and wrote. */
export interface AnswerAttempts {
  /** The prompt the models were given; empty when none was asked (nothing was found). */
  prompt: readonly ChatMessage[];
  /** The models abandoned for a fallback, in order. */
  abandoned: readonly AnswerAttempt[];
  /** The model the answer ended with. */
  last: AnswerAttempt;
  /** The tokens `last` reported; null when its stream ended without them (cancelled, failed). */
  reported: TokenUsage | null;
}

/**
 * The tokens and cost of an answer. Tokens a model did not report are counted here: only the text
 * that arrived before the end counts. Models abandoned for a fallback after they had written are
 * charged for what they wrote; the cost is null when any charged model's price is unknown.
 */
export function answerUsage({ prompt, abandoned, last, reported }: AnswerAttempts): AnswerUsage {
  const attempts = [
    ...abandoned
      .filter((attempt) => attempt.text !== '')
      .map((attempt) => ({ model: attempt.model, tokens: estimateUsage(prompt, attempt.text) })),
    { model: last.model, tokens: reported ?? estimateUsage(prompt, last.text) },
  ];
  const costs = attempts.map(({ model, tokens }) => costOf(model.pricing, tokens));
  return {
    promptTokens: sum(attempts.map((attempt) => attempt.tokens.promptTokens)),
    completionTokens: sum(attempts.map((attempt) => attempt.tokens.completionTokens)),
    totalTokens: sum(attempts.map((attempt) => attempt.tokens.totalTokens)),
    costUsd: costs.includes(null) ? null : sum(costs as number[]),
  };
}

/** What `tokens` cost at a model's list price; null when ragql does not know the price. */
export function costOf(pricing: ChatPricing | null, tokens: TokenUsage): number | null {
  if (!pricing) return null;
  return (
    (tokens.promptTokens * pricing.inputUsdPerMillion +
      tokens.completionTokens * pricing.outputUsdPerMillion) /
    1e6
  );
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** What ragql knows of chat models it has not asked: context windows and list prices. */
import type { ChatPricing } from '../ports.ts';

export interface ChatModelFacts {
  /** Tokens of prompt plus answer the model accepts. */
  contextWindow: number;
  /** List prices; null when ragql does not know them. */
  pricing: ChatPricing | null;
}

/** What ragql assumes of a model it does not know: a small window, so prompts are not cut off. */
export const unknownChatModel: ChatModelFacts = Object.freeze({ contextWindow: 8192, pricing: null });

const price = (inputUsdPerMillion: number, outputUsdPerMillion: number): ChatPricing => ({
  inputUsdPerMillion,
  outputUsdPerMillion,
});

/**
 * Known chat models by id. Prices are the vendors' list prices in US dollars per million tokens
 * as published in mid-2025 (standard tier, no caching or batch discounts); they drift, so a
 * cost ragql reports is an estimate.
 */
export const knownChatModels: Readonly<Record<string, ChatModelFacts>> = {
  // OpenAI
  'gpt-4o-mini': { contextWindow: 128_000, pricing: price(0.15, 0.6) },
  'gpt-4o': { contextWindow: 128_000, pricing: price(2.5, 10) },
  'gpt-4.1': { contextWindow: 1_047_576, pricing: price(2, 8) },
  'gpt-4.1-mini': { contextWindow: 1_047_576, pricing: price(0.4, 1.6) },
  'gpt-4.1-nano': { contextWindow: 1_047_576, pricing: price(0.1, 0.4) },
  // Cohere
  'command-r-08-2024': { contextWindow: 128_000, pricing: price(0.15, 0.6) },
  'command-r-plus-08-2024': { contextWindow: 128_000, pricing: price(2.5, 10) },
  'command-r7b-12-2024': { contextWindow: 128_000, pricing: price(0.0375, 0.15) },
  'command-a-03-2025': { contextWindow: 256_000, pricing: price(2.5, 10) },
};

/** A model's facts: the configured ones first, then the catalog's, then `unknownChatModel`'s. */
export function chatModelFacts(modelId: string, configured: Partial<ChatModelFacts> = {}): ChatModelFacts {
  const known = knownChatModels[modelId] ?? unknownChatModel;
  return {
    contextWindow: configured.contextWindow ?? known.contextWindow,
    pricing: configured.pricing === undefined ? known.pricing : configured.pricing,
  };
}

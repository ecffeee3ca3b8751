import type { ChatModel } from '../ports.ts';
import { createCohereChatModel } from '../providers/cohere-chat-model.ts';
import { createExtractiveModel } from '../providers/extractive.ts';
import { createOpenAIChatModel } from '../providers/openai-chat-model.ts';
import type { RagqlConfig } from './config.ts';
import { placeholderApiKey } from './create-embedder.ts';

/**
 * A configured chat model (the generator, or one the config file adds): the extractive model, or an
 * OpenAI or Cohere chat model that gives up after `idleTimeoutMs` without data.
 */
export function createChatModel(config: RagqlConfig['generator'], idleTimeoutMs: number): ChatModel {
  if (config.kind === 'extractive') return createExtractiveModel();
  const { model, contextWindow } = config;
  if (config.kind === 'openai') {
    return createOpenAIChatModel({
      apiKey: config.apiKey ?? placeholderApiKey,
      baseURL: config.baseUrl,
      model,
      contextWindow,
      idleTimeoutMs,
    });
  }
  return createCohereChatModel({
    token: config.apiKey ?? '',
    baseUrl: config.baseUrl,
    model,
    contextWindow,
    idleTimeoutMs,
  });
}

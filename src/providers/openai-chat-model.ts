/**
 * Chat completions from OpenAI, or from any server that speaks its API (Ollama, vLLM, LM Studio,
 * llama.cpp), streamed through the `openai` SDK.
 */
import OpenAI, { APIError } from 'openai';
import type { ChatModel, ChatPricing } from '../ports.ts';
import { createUpstreamChatModel } from './upstream-chat-stream.ts';

export interface OpenAIChatModelOptions {
  /** The API key; servers that check none still need a non-empty string. */
  apiKey: string;
  /**
   * The API's base URL, for any OpenAI-compatible server, e.g. `http://localhost:11434/v1`.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /** @default 'gpt-4o-mini' */
  model?: string;
  /** Tokens of prompt plus answer the model accepts. @default the catalog's, else 8192 */
  contextWindow?: number;
  /** List prices. @default the catalog's, else null (unknown) */
  pricing?: ChatPricing | null;
  /** Longest wait for the response to start or for its next chunk before giving up. @default `defaultIdleTimeoutMs` */
  idleTimeoutMs?: number;
}

export function createOpenAIChatModel(options: OpenAIChatModelOptions): ChatModel {
  const modelId = options.model ?? 'gpt-4o-mini';
  // An explicit default keeps the SDK from reading OPENAI_BASE_URL behind the configuration's back.
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? 'https://api.openai.com/v1',
    // Retries belong to the gateway (src/gateway/resilient-chat-model.ts), which honours
    // retry-after and shares a circuit breaker per provider.
    maxRetries: 0,
  });
  return createUpstreamChatModel({
    model: { vendor: 'OpenAI', provider: 'openai', modelId },
    contextWindow: options.contextWindow,
    pricing: options.pricing,
    idleTimeoutMs: options.idleTimeoutMs,
    open: (request, signal) =>
      client.chat.completions.create(
        {
          model: modelId,
          messages: request.messages.map(({ role, content }) => ({ role, content })),
          stream: true,
          // Without it the API reports no usage in a stream.
          stream_options: { include_usage: true },
          ...(request.maxOutputTokens === undefined
            ? {}
            : { max_completion_tokens: request.maxOutputTokens }),
        },
        { signal },
      ),
    // The usage chunk has no choices; every other chunk has one.
    read: (chunk) => ({
      text: chunk.choices[0]?.delta?.content ?? undefined,
      usage: chunk.usage
        ? {
            promptTokens: chunk.usage.prompt_tokens,
            completionTokens: chunk.usage.completion_tokens,
            totalTokens: chunk.usage.total_tokens,
          }
        : undefined,
    }),
    responseOf: (error) =>
      error instanceof APIError ? { status: error.status, headers: error.headers } : undefined,
  });
}

/** Chat from Cohere's v2 API, streamed through the `cohere-ai` SDK. */
import { type Cohere, CohereClientV2, CohereError } from 'cohere-ai';
import type { ChatModel, ChatPricing } from '../ports.ts';
import {
  createUpstreamChatModel,
  defaultIdleTimeoutMs,
  type UpstreamEventReading,
} from './upstream-chat-stream.ts';

export interface CohereChatModelOptions {
  /** The API key (`CO_API_KEY`). An empty string sends no `Authorization` header, for proxies. */
  token: string;
  /**
   * The API's root URL (`COHERE_BASE_URL`), without `/v2`: the SDK appends `v2/chat`.
   * @default 'https://api.cohere.com'
   */
  baseUrl?: string;
  /** @default 'command-r-08-2024' */
  model?: string;
  /** Tokens of prompt plus answer the model accepts. @default the catalog's, else 8192 */
  contextWindow?: number;
  /** List prices. @default the catalog's, else null (unknown) */
  pricing?: ChatPricing | null;
  /** Longest wait for the response to start or for its next event before giving up. @default `defaultIdleTimeoutMs` */
  idleTimeoutMs?: number;
}

export function createCohereChatModel(options: CohereChatModelOptions): ChatModel {
  const modelId = options.model ?? 'command-r-08-2024';
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
  const client = new CohereClientV2({
    token: options.token,
    baseUrl: options.baseUrl ?? 'https://api.cohere.com',
    // Retries belong to the gateway (src/gateway/resilient-chat-model.ts).
    maxRetries: 0,
    // The SDK's own timeout (300 s) covers only the wait for headers, which the idle timeout
    // already bounds; its timer is not cleared when a request is aborted, so keep it short.
    timeoutInSeconds: Math.ceil(idleTimeoutMs / 1000) + 1,
  });
  return createUpstreamChatModel({
    model: { vendor: 'Cohere', provider: 'cohere', modelId },
    contextWindow: options.contextWindow,
    pricing: options.pricing,
    idleTimeoutMs,
    open: (request, signal) =>
      client.chatStream(
        {
          model: modelId,
          messages: request.messages.map(({ role, content }) => ({ role, content })),
          ...(request.maxOutputTokens === undefined ? {} : { maxTokens: request.maxOutputTokens }),
        },
        { abortSignal: signal },
      ),
    read: readEvent,
    responseOf: (error) =>
      error instanceof CohereError
        ? { status: error.statusCode, headers: error.rawResponse?.headers }
        : undefined,
  });
}

function readEvent(event: Cohere.V2ChatStreamResponse): UpstreamEventReading {
  if (event.type === 'content-delta') return { text: event.delta?.message?.content?.text };
  if (event.type !== 'message-end') return {};
  // The SDK hands an error during generation over as an ordinary event; the port throws it.
  if (event.delta?.error !== undefined || event.delta?.finishReason === 'ERROR') {
    throw new Error(`Cohere ended the stream with an error: ${event.delta?.error ?? 'finish reason ERROR'}`);
  }
  const usage = event.delta?.usage;
  // `tokens` counts what the model read and wrote; `billed_units` what was charged, without the template.
  const counts = usage?.tokens ?? usage?.billedUnits;
  if (counts?.inputTokens === undefined || counts.outputTokens === undefined) return {};
  return {
    usage: {
      promptTokens: counts.inputTokens,
      completionTokens: counts.outputTokens,
      totalTokens: counts.inputTokens + counts.outputTokens,
    },
  };
}

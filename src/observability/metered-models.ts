/**
 * Decorators that count every request to a provider (and time chat streams) in the metrics.
 * They wrap the provider's own adapter, under the caches and retries, so each real call counts.
 */
import { RagqlError } from '../errors.ts';
import type { ChatModel, ChatRequest, ChatStreamPart, Embedder } from '../ports.ts';
import type { Metrics } from './metrics.ts';

/** A request's status label: ok, cancelled, the provider's HTTP status, or error. */
function statusOf(error: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted) return 'cancelled';
  if (!(error instanceof RagqlError)) return 'error';
  const status = error.details?.status;
  return typeof status === 'number' ? String(status) : error.code.toLowerCase();
}

export function meteredChatModel(model: ChatModel, metrics: Metrics): ChatModel {
  return { ...model, stream: (request) => meteredStream(model, request, metrics) };
}

async function* meteredStream(
  model: ChatModel,
  request: ChatRequest,
  metrics: Metrics,
): AsyncGenerator<ChatStreamPart> {
  const labels = { provider: model.provider, model: model.modelId };
  const elapsed = metrics.llmRequestSeconds.startTimer(labels);
  const untilFirstToken = metrics.llmFirstTokenSeconds.startTimer(labels);
  let firstToken = true;
  // The consumer may stop early (it left): that ends the request too.
  let status = 'cancelled';
  try {
    for await (const part of model.stream(request)) {
      if (firstToken && part.type === 'text-delta') {
        firstToken = false;
        untilFirstToken();
      }
      yield part;
    }
    status = 'ok';
  } catch (error) {
    status = statusOf(error, request.signal);
    throw error;
  } finally {
    elapsed();
    metrics.llmRequests.inc({ ...labels, status });
  }
}

export function meteredEmbedder(embedder: Embedder, metrics: Metrics): Embedder {
  const labels = { provider: embedder.provider, model: embedder.modelId };
  return {
    specificationVersion: embedder.specificationVersion,
    provider: embedder.provider,
    modelId: embedder.modelId,
    dimensions: embedder.dimensions,
    maxEmbeddingsPerCall: embedder.maxEmbeddingsPerCall,
    embed: async (texts, options) => {
      try {
        const result = await embedder.embed(texts, options);
        metrics.embeddingRequests.inc({ ...labels, status: 'ok' });
        return result;
      } catch (error) {
        metrics.embeddingRequests.inc({ ...labels, status: statusOf(error, options.signal) });
        throw error;
      }
    },
  };
}

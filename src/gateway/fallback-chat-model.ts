/**
 * A chain of chat models that answers from the first one able to: when a model fails, before or
 * during its stream, the next one answers from the start. The stream says so with a `fallback`
 * part, so a consumer that already passed tokens on can tell its client that the answer restarts.
 */
import { RagqlError } from '../errors.ts';
import type { ChatModel, ChatRequest, ChatStreamPart } from '../ports.ts';

export interface FallbackEvents {
  /** `from` failed with `error` and `to` answers instead. */
  onFallback?(from: ChatModel, to: ChatModel, error: RagqlError): void;
}

/** The chain as one model: the first model's name, the smallest context window of them all. */
export function withFallbacks(chain: readonly ChatModel[], events: FallbackEvents = {}): ChatModel {
  const [first, ...rest] = chain;
  if (!first) throw new Error('A fallback chain needs at least one model.');
  if (rest.length === 0) return first;
  return {
    ...first,
    // The prompt is built once, before anyone knows which model will read it.
    contextWindow: Math.min(...chain.map((model) => model.contextWindow)),
    stream: (request) => fallbackStream(chain, request, events),
  };
}

async function* fallbackStream(
  chain: readonly ChatModel[],
  request: ChatRequest,
  events: FallbackEvents,
): AsyncGenerator<ChatStreamPart> {
  for (const [position, model] of chain.entries()) {
    const next = chain[position + 1];
    let deltas = 0;
    try {
      for await (const part of model.stream(request)) {
        if (part.type === 'text-delta') deltas++;
        yield part;
      }
      return;
    } catch (error) {
      // The caller left, a bug, or nothing left to fall back on: not this chain's to handle.
      if (request.signal?.aborted || !(error instanceof RagqlError) || !next) throw error;
      events.onFallback?.(model, next, error);
      yield { type: 'fallback', from: model, to: next, reason: error.message, failedAfterDeltas: deltas };
    }
  }
}

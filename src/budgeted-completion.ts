import type { ChatMessage, ChatModel, TokenBudget, TokenReservation, TokenUsage } from './ports.ts';
import { countMessageTokens, estimateUsage } from './text/token-count.ts';

/** A model call that is not an answer: a plugin's, or the router's classifier's. */
export interface CompletionRequest {
  model: ChatModel;
  messages: readonly ChatMessage[];
  maxOutputTokens: number;
  signal: AbortSignal;
  /** The caller's tokens; null when its calls are not budgeted (the CLI, benchmarks). */
  budget: TokenBudget | null;
  /** Told of the call once it ends, whatever its outcome, with the model that answered. */
  onFinished(call: { model: ChatModel; usage: TokenUsage }): Promise<void>;
}

/**
 * Runs one model call that pays its way as answers do: its most tokens reserved from the caller's
 * budget before it starts (RATE_LIMITED when they are spent), settled with what it used, and
 * reported (`onFinished`: metrics, the tenant's usage), also when it fails or is cut short.
 * Returns the text of the model that answered last (a fallback starts over).
 */
export async function budgetedCompletion(request: CompletionRequest): Promise<string> {
  const { messages, maxOutputTokens, signal } = request;
  const reservation: TokenReservation | undefined = await request.budget?.reserve(
    countMessageTokens(messages) + maxOutputTokens,
  );
  let answering = request.model;
  let text = '';
  let usage: TokenUsage | null = null;
  try {
    for await (const part of request.model.stream({ messages, maxOutputTokens, signal })) {
      if (part.type === 'text-delta') text += part.text;
      if (part.type === 'finish') usage = part.usage;
      if (part.type === 'fallback') {
        // Another model starts over: what came before is void.
        answering = part.to;
        text = '';
      }
    }
    return text;
  } finally {
    const used = usage ?? estimateUsage(messages, text);
    await reservation?.settle(used.totalTokens);
    await request.onFinished({ model: answering, usage: used });
  }
}

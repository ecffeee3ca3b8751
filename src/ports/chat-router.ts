/** The chat router port: which model answers a question (the gateway's ModelRouter implements it). */
import type { ChatModel } from './chat-model.ts';

import type { TokenBudget } from './token-budget.ts';

/** What a router decides from: the question, the caller's tier, and the model it asks for. */
export interface RouteRequest {
  question: string;
  tier: string;
  requested?: string | null | undefined;
  /** Whose question it is: a router that asks a model about it charges the caller. */
  tenant: string;
  budget?: TokenBudget | null | undefined;
  signal?: AbortSignal | undefined;
}

/** The model an answer starts with (a fallback chain, for a gateway), and why it was chosen. */
export interface ModelChoice {
  model: ChatModel;
  reason: string;
}

/** Chooses the chat model per question. */
export interface ChatRouter {
  /** The model a question goes to when nothing says otherwise. */
  readonly defaultModel: ChatModel;
  /**
   * Throws BAD_USER_INPUT when the request asks for a model it may not use, RATE_LIMITED when the
   * caller's budget cannot pay for a model the router asks.
   */
  choose(request: RouteRequest): Promise<ModelChoice>;
  /**
   * The client's choice or the routing rules' alone, asking no model: for plugins' model calls,
   * which are not answers and need their model at once.
   */
  chooseByRules(request: Pick<RouteRequest, 'question' | 'tier' | 'requested'>): ModelChoice;
}

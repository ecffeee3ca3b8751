/** The chat router port: which model answers a question (the gateway's ModelRouter implements it). */
import type { ChatModel } from './chat-model.ts';

/** What a router decides from: the question, the caller's tier, and the model it asks for. */
export interface RouteRequest {
  question: string;
  tier: string;
  requested?: string | null | undefined;
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
  /** Throws BAD_USER_INPUT when the request asks for a model it may not use. */
  choose(request: RouteRequest): ModelChoice;
}

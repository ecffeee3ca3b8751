import type { ChatMessage, GroundingSource, SearchHit } from '../ports.ts';
import { countMessageTokens, countTokens } from '../text/token-count.ts';
import { buildGroundedMessages, renderSource } from './prompt.ts';

/** A retrieved hit with what the prompt says about its document. */
export interface SourceCandidate {
  hit: SearchHit;
  title: string | null;
  source: string | null;
}

export interface BudgetedContext {
  /** The hits the prompt holds, in rank order; hit n is source [n + 1]. */
  included: SearchHit[];
  /** Retrieved hits left out because they did not fit the budget, in rank order. */
  omitted: SearchHit[];
  grounding: GroundingSource[];
  messages: ChatMessage[];
  promptTokens: number;
}

export interface ContextLimits {
  /** Tokens the model accepts, prompt and answer together. */
  contextWindow: number;
  /** Tokens kept free for the answer. */
  maxOutputTokens: number;
  /** The most tokens the sources may take, whatever the window allows. */
  maxSourceTokens: number;
}

/**
 * Picks the best-ranked hits whose rendered sources fit the token budget: the smaller of
 * `maxSourceTokens` and what the window leaves after the instructions, the question and the answer.
 * A hit too large to fit is skipped, and a smaller one ranked below it may still take its place.
 */
export function fitContext(
  question: string,
  candidates: readonly SourceCandidate[],
  limits: ContextLimits,
): BudgetedContext {
  const frameTokens = countMessageTokens(buildGroundedMessages(question, []));
  const budget = Math.min(
    limits.maxSourceTokens,
    limits.contextWindow - limits.maxOutputTokens - frameTokens,
  );
  const included: SearchHit[] = [];
  const omitted: SearchHit[] = [];
  const grounding: GroundingSource[] = [];
  let used = 0;
  for (const candidate of candidates) {
    const source: GroundingSource = {
      marker: grounding.length + 1,
      title: candidate.title,
      source: candidate.source,
      text: candidate.hit.chunk.content,
    };
    // The newline joins it to the previous source.
    const tokens = countTokens(renderSource(source)) + 1;
    if (used + tokens > budget) {
      omitted.push(candidate.hit);
      continue;
    }
    used += tokens;
    included.push(candidate.hit);
    grounding.push(source);
  }
  const messages = buildGroundedMessages(question, grounding);
  return { included, omitted, grounding, messages, promptTokens: countMessageTokens(messages) };
}

import type { ChatModel, ChatRequest, ChatStreamPart, GroundingSource } from '../ports.ts';
import { analyzeTerms } from '../text/analysis.ts';
import { splitSentences } from '../text/sentences.ts';

export interface ExtractiveModelOptions {
  /** Most sentences quoted in one answer. @default 3 */
  maxSentences?: number;
}

/** What the extractive model says when no source sentence shares a term with the question. */
export const noAnswerText = 'The indexed documents do not contain an answer to this question.';

interface ScoredSentence {
  text: string;
  marker: number;
  score: number;
}

/**
 * The default generator, which needs no LLM: it answers with the source sentences that best match
 * the question (terms weighted by rarity among the candidate sentences), each followed by the
 * marker of its source. It streams one sentence at a time, like a model would stream tokens.
 */
export const extractiveModelId = 'extractive';

/** The extractive model needs grounding sources: it cannot serve as an LLM (to plugins, say). */
export function isExtractive(model: ChatModel): boolean {
  return model.modelId === extractiveModelId;
}

export function createExtractiveModel(options: ExtractiveModelOptions = {}): ChatModel {
  const maxSentences = options.maxSentences ?? 3;
  return {
    specificationVersion: 'v1',
    provider: 'ragql',
    modelId: extractiveModelId,
    contextWindow: Number.POSITIVE_INFINITY,
    pricing: { inputUsdPerMillion: 0, outputUsdPerMillion: 0 },
    async *stream(request: ChatRequest): AsyncIterable<ChatStreamPart> {
      if (!request.grounding) {
        throw new Error('The extractive model answers only from grounding sources; the request has none.');
      }
      const picked = pickSentences(request.grounding.question, request.grounding.sources, maxSentences);
      const parts =
        picked.length === 0
          ? [noAnswerText]
          : picked.map((sentence, position) => {
              const separator = position === 0 ? '' : ' ';
              return `${separator}${sentence.text} [${sentence.marker}]`;
            });
      for (const text of parts) {
        request.signal?.throwIfAborted();
        yield { type: 'text-delta', text };
      }
      request.signal?.throwIfAborted();
      yield { type: 'finish', usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } };
    },
  };
}

function pickSentences(
  question: string,
  sources: readonly GroundingSource[],
  limit: number,
): ScoredSentence[] {
  const questionTerms = new Set(analyzeTerms(question));
  const candidates = sources.flatMap((source) =>
    splitSentences(source.text).map((text) => ({
      text,
      marker: source.marker,
      terms: new Set(analyzeTerms(text)),
    })),
  );
  const documentFrequency = new Map<string, number>();
  for (const candidate of candidates) {
    for (const term of candidate.terms) {
      if (questionTerms.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
  }
  const weight = (term: string) => Math.log(1 + candidates.length / (documentFrequency.get(term) ?? 1));
  const seen = new Set<string>();
  return candidates
    .map((candidate) => ({
      text: candidate.text,
      marker: candidate.marker,
      score: [...candidate.terms]
        .filter((term) => questionTerms.has(term))
        .reduce((sum, term) => sum + weight(term), 0),
    }))
    .filter((sentence) => sentence.score > 0)
    .sort((a, b) => b.score - a.score)
    .filter((sentence) => !seen.has(sentence.text) && seen.add(sentence.text))
    .slice(0, limit);
}

import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../../src/ports.ts';
import { type ContextLimits, fitContext, type SourceCandidate } from '../../src/rag/context-budget.ts';
import { buildGroundedMessages, renderSource } from '../../src/rag/prompt.ts';
import { countMessageTokens, countTokens } from '../../src/text/token-count.ts';

function candidate(id: string, content: string): SourceCandidate {
  const hit: SearchHit = {
    chunk: {
      id: `${id}#0`,
      documentId: id,
      index: 0,
      content,
      startOffset: 0,
      endOffset: content.length,
      contentHash: id,
      pages: null,
      sectionPath: [],
    },
    score: 1,
    keywordScore: 1,
    vectorScore: null,
  };
  return { hit, title: id, source: null };
}

/** The tokens a candidate takes in the prompt as source [marker]. */
function sourceTokens(entry: SourceCandidate, marker: number): number {
  return (
    countTokens(
      renderSource({ marker, title: entry.title, source: entry.source, text: entry.hit.chunk.content }),
    ) + 1
  );
}

const question = 'What do the sources say?';
const short = candidate('short', 'Tides follow the moon.');
const long = candidate('long', 'The moon pulls the oceans. '.repeat(40));
const other = candidate('other', 'Spring tides come at new and full moon.');
const unlimited: ContextLimits = {
  contextWindow: Number.POSITIVE_INFINITY,
  maxOutputTokens: 1024,
  maxSourceTokens: 100_000,
};

describe('fitContext', () => {
  it('keeps every hit in rank order, numbered from 1, when the budget allows', () => {
    const context = fitContext(question, [short, long, other], unlimited);
    expect(context.included.map((hit) => hit.chunk.id)).toEqual(['short#0', 'long#0', 'other#0']);
    expect(context.omitted).toEqual([]);
    expect(context.grounding.map((source) => source.marker)).toEqual([1, 2, 3]);
    expect(context.messages).toEqual(buildGroundedMessages(question, context.grounding));
    expect(context.promptTokens).toBe(countMessageTokens(context.messages));
  });

  it('leaves out a hit that does not fit and lets a smaller one below it take its place', () => {
    const budget = sourceTokens(short, 1) + sourceTokens(other, 2);
    const context = fitContext(question, [short, long, other], { ...unlimited, maxSourceTokens: budget });
    expect(context.included.map((hit) => hit.chunk.id)).toEqual(['short#0', 'other#0']);
    expect(context.omitted.map((hit) => hit.chunk.id)).toEqual(['long#0']);
    // Markers follow the prompt, not the retrieval rank: the hit after the omitted one is [2].
    expect(context.grounding.map((source) => [source.marker, source.text])).toEqual([
      [1, short.hit.chunk.content],
      [2, other.hit.chunk.content],
    ]);
  });

  it("keeps the sources within what the model's window leaves after the prompt's frame and the answer", () => {
    const frame = countMessageTokens(buildGroundedMessages(question, []));
    const limits = {
      contextWindow: frame + 100 + sourceTokens(short, 1),
      maxOutputTokens: 100,
      maxSourceTokens: 100_000,
    };
    const context = fitContext(question, [short, long, other], limits);
    expect(context.included.map((hit) => hit.chunk.id)).toEqual(['short#0']);
    expect(context.promptTokens).toBeLessThanOrEqual(limits.contextWindow - limits.maxOutputTokens);
  });

  it('omits everything when nothing fits', () => {
    const context = fitContext(question, [long], { ...unlimited, maxSourceTokens: 5 });
    expect(context.included).toEqual([]);
    expect(context.omitted).toHaveLength(1);
  });
});

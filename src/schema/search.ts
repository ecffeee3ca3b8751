import type { Candidate } from '../plugin-api/api.ts';
import type { SearchHit } from '../ports.ts';
import type { SearchResult } from '../rag/index.ts';
import { maxSearchLimit, searchDefaults } from '../rag/search.ts';
import { reciprocalRankConstant } from '../ranking/fusion.ts';
import { builder } from './builder.ts';
import { ChunkType } from './documents.ts';
import { FilterConditionInput } from './filter.ts';
import { RerankerRefInput, RetrieverRefInput, TraceStepType } from './plugins.ts';

export const SearchModeEnum = builder.enumType('SearchMode', {
  values: {
    HYBRID: { description: 'Keyword and vector results fused.' },
    KEYWORD: { description: 'BM25 only: alpha was 0, or no embedder is configured.' },
    VECTOR: { description: 'Vector similarity only (alpha 1).' },
  } as const,
});

const FusionTypeEnum = builder.enumType('FusionType', {
  values: {
    RANKED: { value: 'ranked', description: `Reciprocal rank fusion (k = ${reciprocalRankConstant}).` },
    RELATIVE_SCORE: {
      value: 'relativeScore',
      description: 'Min-max normalised scores, weighted (the default).',
    },
  } as const,
});

const SearchScoresType = builder.objectRef<SearchHit>('SearchScores').implement({
  fields: (t) => ({
    keyword: t.float({
      nullable: true,
      description: 'BM25 score, when keyword search found the chunk.',
      resolve: (hit) => hit.keywordScore,
    }),
    vector: t.float({
      nullable: true,
      description: 'Cosine similarity, when vector search found the chunk.',
      resolve: (hit) => hit.vectorScore,
    }),
    fused: t.float({ description: 'The score hits are ordered by.', resolve: (hit) => hit.score }),
  }),
});

const TextSpanType = builder.objectRef<{ startOffset: number; endOffset: number }>('TextSpan').implement({
  description: "A range of the document's content, in UTF-16 code units (end exclusive).",
  fields: (t) => ({ startOffset: t.exposeInt('startOffset'), endOffset: t.exposeInt('endOffset') }),
});

export const SearchHitType = builder.objectRef<Candidate>('SearchHit').implement({
  fields: (t) => ({
    score: t.exposeFloat('score'),
    scores: t.field({ type: SearchScoresType, resolve: (hit) => hit }),
    chunk: t.field({ type: ChunkType, resolve: (hit) => hit.chunk }),
    match: t.field({
      type: TextSpanType,
      nullable: true,
      description:
        'The part of the chunk that matched the query, when the retriever returned more text than it matched (parent-document); for highlighting.',
      resolve: (hit) => hit.match ?? null,
    }),
  }),
});

const SearchResultType = builder.objectRef<SearchResult>('SearchResult').implement({
  fields: (t) => ({
    mode: t.expose('mode', {
      type: SearchModeEnum,
      description: 'What ran, which may differ from what alpha asked.',
    }),
    alpha: t.exposeFloat('alpha'),
    hits: t.expose('hits', { type: [SearchHitType] }),
    trace: t.expose('trace', { type: [TraceStepType] }),
  }),
});

/** The retrieval arguments that search and answers share. */
export const retrievalArgs = builder.args((t) => ({
  limit: t.int({ required: false, description: `Hits to retrieve (1 to ${maxSearchLimit}).` }),
  alpha: t.float({
    required: false,
    description: `0 = keyword only, 1 = vector only. Default ${searchDefaults.alpha}.`,
  }),
  fusion: t.field({ type: FusionTypeEnum, required: false, description: 'Default RELATIVE_SCORE.' }),
  filter: t.field({ type: [FilterConditionInput], required: false }),
  retriever: t.field({
    type: RetrieverRefInput,
    required: false,
    description: 'The retriever plugin; default `hybrid`.',
  }),
  reranker: t.field({
    type: RerankerRefInput,
    required: false,
    description: 'A reranker plugin to reorder what the retriever found; none by default.',
  }),
}));

builder.queryField('search', (t) =>
  t.field({
    type: SearchResultType,
    description: "Hybrid search over the chunks of the caller's documents (its API key's tenant).",
    args: { query: t.arg.string({ required: true }), ...retrievalArgs },
    resolve: (_root, args, context) => context.services.search({ ...args, signal: context.signal }),
  }),
);

import type { TokenUsage } from '../ports.ts';
import type { Citation, CompletedAnswer } from '../rag/index.ts';
import { builder } from './builder.ts';
import { ChunkType, DocumentType } from './documents.ts';
import { retrievalArgs, SearchHitType, SearchModeEnum } from './search.ts';

const CitationType = builder.objectRef<Citation>('Citation').implement({
  description: 'A source the answer cites as [marker].',
  fields: (t) => ({
    marker: t.exposeInt('marker'),
    chunk: t.field({ type: ChunkType, resolve: (citation) => citation.hit.chunk }),
    document: t.field({ type: DocumentType, resolve: (citation) => citation.hit.chunk.documentId }),
  }),
});

const TokenUsageType = builder.objectRef<TokenUsage>('TokenUsage').implement({
  fields: (t) => ({
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    totalTokens: t.exposeInt('totalTokens'),
  }),
});

const AnswerType = builder.objectRef<CompletedAnswer>('Answer').implement({
  description: 'An answer grounded in retrieved chunks.',
  fields: (t) => ({
    text: t.exposeString('text'),
    citations: t.expose('citations', { type: [CitationType], description: 'In order of first mention.' }),
    invalidCitations: t.exposeInt('invalidCitations', {
      description: 'Markers in the text that named no source; they were dropped from citations.',
    }),
    sources: t.expose('sources', { type: [SearchHitType], description: 'Source [n] is sources[n - 1].' }),
    mode: t.expose('mode', { type: SearchModeEnum }),
    generator: t.exposeString('generator', { description: 'What wrote the answer, e.g. extractive.' }),
    model: t.exposeString('model'),
    usage: t.expose('usage', { type: TokenUsageType }),
  }),
});

builder.queryField('answer', (t) =>
  t.field({
    type: AnswerType,
    description: 'Answers a question from the indexed documents, citing them.',
    args: { question: t.arg.string({ required: true }), ...retrievalArgs },
    resolve: (_root, args, context) => context.services.answers.answer({ ...args, signal: context.signal }),
  }),
);

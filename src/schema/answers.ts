import { markOperationFailed } from '../observability/operation-telemetry.ts';
import type {
  AnswerEvent,
  AnswerLatency,
  AnswerUsage,
  CacheMatch,
  Citation,
  CompletedAnswer,
  FallbackRecord,
  Routing,
} from '../rag/index.ts';
import { builder } from './builder.ts';
import { cancellableStream } from './cancellable-stream.ts';
import { ChunkType, DocumentType } from './documents.ts';
import { TraceStepType } from './plugins.ts';
import { retrievalArgs, SearchHitType, SearchModeEnum } from './search.ts';

const CitationType = builder.objectRef<Citation>('Citation').implement({
  description: 'A source the answer cites as [marker].',
  fields: (t) => ({
    marker: t.exposeInt('marker'),
    chunk: t.field({ type: ChunkType, resolve: (citation) => citation.hit.chunk }),
    document: t.field({ type: DocumentType, resolve: (citation) => citation.hit.chunk.documentId }),
  }),
});

const TokenUsageType = builder.objectRef<AnswerUsage>('TokenUsage').implement({
  description:
    'Tokens as the provider reported them; counted by ragql (cl100k) when it reported none, as for a cancelled stream.',
  fields: (t) => ({
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    totalTokens: t.exposeInt('totalTokens'),
    costUsd: t.exposeFloat('costUsd', {
      nullable: true,
      description: "At the model's list price; null when ragql does not know the price.",
    }),
  }),
});

const AnswerLatencyType = builder.objectRef<AnswerLatency>('AnswerLatency').implement({
  description: 'Milliseconds from the moment the server received the request.',
  fields: (t) => ({
    retrievalMs: t.exposeFloat('retrievalMs', { description: 'Until the sources were ready.' }),
    firstTokenMs: t.exposeFloat('firstTokenMs', {
      nullable: true,
      description: 'Until the first token; null when the answer has no token.',
    }),
    totalMs: t.exposeFloat('totalMs', { description: 'Until the answer was complete.' }),
  }),
});

const FallbackType = builder.objectRef<FallbackRecord>('ModelFallback').implement({
  description: 'A model that failed while answering, and the one that took over.',
  fields: (t) => ({
    from: t.exposeString('from'),
    to: t.exposeString('to'),
    reason: t.exposeString('reason', { description: 'Why `from` failed.' }),
    afterTokens: t.exposeInt('afterTokens', {
      description: 'Tokens `from` had sent before it failed; answerStream then sent AnswerRestarted.',
    }),
  }),
});

const RoutingType = builder.objectRef<Routing>('Routing').implement({
  description: 'Which model wrote the answer, and why that one.',
  fields: (t) => ({
    model: t.exposeString('model', {
      description: 'The model that wrote the answer.',
      deprecationReason: 'The same as GeneratedAnswer.model; read that.',
    }),
    reason: t.exposeString('reason', {
      description:
        "Why the first model was chosen: requested by the client, a routing rule's name, or the default.",
    }),
    fallbacks: t.expose('fallbacks', {
      type: [FallbackType],
      description: 'Models that failed on the way, in order; empty when the first model answered.',
    }),
  }),
});

const CacheMatchType = builder.objectRef<CacheMatch>('CacheMatch').implement({
  description: 'An earlier question of the same tenant whose answer, on the same sources, was reused.',
  fields: (t) => ({
    question: t.exposeString('question'),
    similarity: t.exposeFloat('similarity', {
      description:
        "Cosine similarity of the two questions' embeddings, at least RAGQL_SIMILAR_ANSWER_THRESHOLD.",
    }),
  }),
});

const GeneratedAnswerInterface = builder.interfaceRef<CompletedAnswer>('GeneratedAnswer').implement({
  description: 'What every complete answer says, whether it was streamed or returned at once.',
  fields: (t) => ({
    text: t.exposeString('text'),
    citations: t.expose('citations', { type: [CitationType], description: 'In order of first mention.' }),
    invalidCitations: t.exposeInt('invalidCitations', {
      description: 'Markers in the text that named no source; they were dropped from citations.',
    }),
    mode: t.expose('mode', { type: SearchModeEnum }),
    trace: t.expose('trace', { type: [TraceStepType], description: 'What each retriever and reranker did.' }),
    generator: t.exposeString('generator', {
      description: 'What wrote the answer, e.g. extractive.',
      deprecationReason: 'The same as model; read that.',
    }),
    model: t.exposeString('model', { description: 'The model that wrote the answer, e.g. extractive.' }),
    routing: t.expose('routing', { type: RoutingType }),
    usage: t.expose('usage', { type: TokenUsageType }),
    latency: t.expose('latency', { type: AnswerLatencyType }),
    cached: t.exposeBoolean('cached', {
      description:
        'Served from the answer cache: this tenant asked this model with the same prompt before, or a similar question on the same sources (usage is then zero).',
    }),
    cacheMatch: t.expose('cacheMatch', {
      type: CacheMatchType,
      nullable: true,
      description:
        "When the answer is another question's, reused by the similar-answer cache: which question, and how close. Null otherwise.",
    }),
  }),
});

const sourcesDescription = 'Source [n] is sources[n - 1]: the retrieved hits that fit the context budget.';
const omittedSourcesDescription =
  "Retrieved hits left out of the model's prompt because they did not fit its context budget.";

const AnswerType = builder.objectRef<CompletedAnswer>('Answer').implement({
  description: 'An answer grounded in retrieved chunks.',
  interfaces: [GeneratedAnswerInterface],
  fields: (t) => ({
    sources: t.expose('sources', { type: [SearchHitType], description: sourcesDescription }),
    omittedSources: t.expose('omittedSources', {
      type: [SearchHitType],
      description: omittedSourcesDescription,
    }),
  }),
});

type StreamEvent<Type extends AnswerEvent['type']> = Extract<AnswerEvent, { type: Type }>;

const AnswerSourcesType = builder.objectRef<StreamEvent<'sources'>>('AnswerSources').implement({
  description: 'The first event: what the answer will be grounded in, as soon as retrieval is done.',
  fields: (t) => ({
    sources: t.expose('sources', { type: [SearchHitType], description: sourcesDescription }),
    omittedSources: t.expose('omittedSources', {
      type: [SearchHitType],
      description: omittedSourcesDescription,
    }),
    mode: t.expose('mode', { type: SearchModeEnum }),
    trace: t.expose('trace', { type: [TraceStepType], description: 'What each retriever and reranker did.' }),
  }),
});

const AnswerTokenType = builder.objectRef<StreamEvent<'token'>>('AnswerToken').implement({
  description: 'A piece of the answer, sent the moment the model produced it.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0, 1, 2, … in the order the pieces join.' }),
    text: t.exposeString('text'),
  }),
});

const AnswerRestartedType = builder.objectRef<StreamEvent<'restarted'>>('AnswerRestarted').implement({
  description:
    'The model failed after sending tokens: discard them; `model` answers from the start, with tokens from index 0.',
  fields: (t) => ({
    model: t.exposeString('model'),
    reason: t.exposeString('reason', { description: 'Why the previous model failed.' }),
  }),
});

type CompletedEvent = CompletedAnswer & { type: 'completed' };

const AnswerCompletedType = builder.objectRef<CompletedEvent>('AnswerCompleted').implement({
  description: 'The last event of an answer that succeeded: its text is every token joined.',
  interfaces: [GeneratedAnswerInterface],
});

const AnswerFailedType = builder.objectRef<StreamEvent<'failed'>>('AnswerFailed').implement({
  description: 'The last event of an answer the model could not finish; the tokens before it are incomplete.',
  fields: (t) => ({
    code: t.string({
      description: 'An error code, as in extensions.code of errors: e.g. UPSTREAM_FAILED.',
      resolve: (event) => event.error.code,
    }),
    message: t.string({ resolve: (event) => event.error.message }),
  }),
});

type StreamedEvent = Exclude<AnswerEvent, { type: 'completed' }> | CompletedEvent;

const AnswerEventUnion = builder.unionType('AnswerEvent', {
  description:
    'answerStream sends AnswerSources, then AnswerToken for each token, then AnswerCompleted or AnswerFailed. AnswerRestarted voids the tokens before it: a fallback model answers from the start.',
  types: [AnswerSourcesType, AnswerTokenType, AnswerRestartedType, AnswerCompletedType, AnswerFailedType],
  resolveType: (event: StreamedEvent) => {
    switch (event.type) {
      case 'sources':
        return AnswerSourcesType;
      case 'token':
        return AnswerTokenType;
      case 'restarted':
        return AnswerRestartedType;
      case 'completed':
        return AnswerCompletedType;
      case 'failed':
        return AnswerFailedType;
    }
  },
});

const answerArgs = builder.args((t) => ({
  question: t.string({ required: true }),
  ...retrievalArgs,
  model: t.string({
    required: false,
    description:
      "The chat model to answer with, among those the caller's tier allows; absent: ragql's routing rules choose.",
  }),
  cache: t.boolean({
    required: false,
    description: 'false: ask the model even if the same prompt was answered before. Default true.',
  }),
}));

builder.queryField('answer', (t) =>
  t.field({
    type: AnswerType,
    description: 'Answers a question from the indexed documents, citing them.',
    args: answerArgs,
    resolve: (_root, args, context) => context.services.answer({ ...args, signal: context.signal }),
  }),
);

builder.subscriptionType({});

builder.subscriptionField('answerStream', (t) =>
  t.field({
    type: AnswerEventUnion,
    description:
      'Answers a question token by token. Leaving the subscription stops the model. Bad input and retrieval failures are errors before any event; a model failure is an AnswerFailed event.',
    args: answerArgs,
    subscribe: async (_root, args, context) => {
      const prepared = await context.services.prepareAnswer({ ...args, signal: context.signal });
      return cancellableStream(
        (signal) => flattenCompleted(context.services.generateAnswer(prepared, signal)),
        context.signal,
      );
    },
    resolve: (event, _args, context) => {
      // The stream completes normally after AnswerFailed; the operation failed all the same.
      if (event.type === 'failed') markOperationFailed(context);
      return event;
    },
  }),
);

/** The completed event's answer as the event itself, so AnswerCompleted reads its fields directly. */
async function* flattenCompleted(events: AsyncIterable<AnswerEvent>): AsyncIterable<StreamedEvent> {
  for await (const event of events) {
    yield event.type === 'completed' ? { ...event.answer, type: 'completed' } : event;
  }
}

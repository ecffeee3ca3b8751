import type { PluginKind } from '../plugin-api/api.ts';
import type { PluginInfo } from '../plugin-api/registry.ts';
import { defaultCandidateFactor, maxCandidates, type TraceStep } from '../rag/retrieval.ts';
import { maxSearchLimit } from '../rag/search.ts';
import { builder } from './builder.ts';

export const PluginKindEnum = builder.enumType('PluginKind', {
  values: {
    RETRIEVER: { value: 'retriever', description: 'Finds candidate chunks for a query.' },
    RERANKER: { value: 'reranker', description: 'Reorders (and trims) the candidates a retriever found.' },
  } as const satisfies Record<string, { value: PluginKind; description: string }>,
});

export const RetrieverRefInput = builder.inputType('RetrieverRef', {
  description: 'A retriever plugin and its options (see the `plugins` query for each one’s schema).',
  fields: (t) => ({
    name: t.string({ required: true }),
    options: t.field({
      type: 'JSON',
      required: false,
      description: 'Checked against the plugin’s options schema.',
    }),
  }),
});

export const RerankerRefInput = builder.inputType('RerankerRef', {
  description: 'A reranker plugin, how many hits it keeps, and its options.',
  fields: (t) => ({
    name: t.string({ required: true }),
    topN: t.int({
      required: false,
      description: `Hits to keep (1 to ${maxSearchLimit}). Default: the request’s limit.`,
    }),
    candidates: t.int({
      required: false,
      description: `Candidates the retriever fetches for the reranker (1 to ${maxCandidates}). Default: RAGQL_RERANK_CANDIDATES x topN (${defaultCandidateFactor} x topN).`,
    }),
    options: t.field({
      type: 'JSON',
      required: false,
      description: 'Checked against the plugin’s options schema.',
    }),
  }),
});

export const TraceStepType = builder.objectRef<TraceStep>('TraceStep').implement({
  description: 'What one retriever or reranker did while serving the request.',
  fields: (t) => ({
    plugin: t.exposeString('plugin'),
    kind: t.expose('kind', { type: PluginKindEnum }),
    tookMs: t.exposeFloat('tookMs'),
    candidatesIn: t.exposeInt('candidatesIn', { description: 'Candidates given to it (0 for a retriever).' }),
    candidatesOut: t.exposeInt('candidatesOut'),
    details: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Plugin-specific, e.g. the query variants a multi-query retriever searched.',
      resolve: (step) => step.details,
    }),
  }),
});

const PluginInfoType = builder.objectRef<PluginInfo>('PluginInfo').implement({
  description: 'A registered retriever or reranker.',
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: PluginKindEnum }),
    version: t.exposeString('version'),
    description: t.exposeString('description'),
    optionsSchema: t.field({
      type: 'JSON',
      description: 'The options it accepts, as JSON Schema.',
      resolve: (plugin) => plugin.optionsSchema,
    }),
  }),
});

builder.queryField('plugins', (t) =>
  t.field({
    type: [PluginInfoType],
    description: 'The retrievers and rerankers requests may choose, by name.',
    args: { kind: t.arg({ type: PluginKindEnum, required: false }) },
    resolve: (_root, args, context) => context.services.plugins(args.kind ?? undefined),
  }),
);

import type { ReembeddingStatus } from '../rag/index.ts';
import { builder } from './builder.ts';
import type { OperationsStatus } from './context.ts';

const ReembeddingStateEnum = builder.enumType('ReembeddingState', {
  values: {
    IDLE: { description: 'None has run in this process since it started.' },
    RUNNING: { description: 'Building the new space; the old one serves meanwhile.' },
    DONE: { description: 'Switched: the new space serves.' },
    FAILED: { description: 'Stopped by a failure; starting it again resumes where it stopped.' },
  } as const,
});

const ReembeddingType = builder.objectRef<ReembeddingStatus>('Reembedding').implement({
  description: 'The re-embedding this server process runs or ran last.',
  fields: (t) => ({
    state: t.field({
      type: ReembeddingStateEnum,
      resolve: (status) => status.state.toUpperCase() as 'IDLE' | 'RUNNING' | 'DONE' | 'FAILED',
    }),
    model: t.string({
      nullable: true,
      description: 'The model being, or last, built.',
      resolve: (status) =>
        status.state === 'idle' ? null : status.state === 'done' ? status.report.space.modelId : status.model,
    }),
    tenant: t.string({
      nullable: true,
      description: 'The tenant whose documents are being copied.',
      resolve: (status) => (status.state === 'running' ? (status.progress?.tenant ?? null) : null),
    }),
    done: t.int({
      nullable: true,
      description: "Of that tenant's documents, how many this pass has looked at.",
      resolve: (status) => (status.state === 'running' ? (status.progress?.done ?? null) : null),
    }),
    total: t.int({
      nullable: true,
      resolve: (status) => (status.state === 'running' ? (status.progress?.total ?? null) : null),
    }),
    copied: t.int({
      nullable: true,
      description: 'Documents embedded into the new space (when done).',
      resolve: (status) => (status.state === 'done' ? status.report.copied : null),
    }),
    message: t.string({
      nullable: true,
      description: 'Why it failed.',
      resolve: (status) => (status.state === 'failed' ? status.message : null),
    }),
  }),
});

const OperationsStatusType = builder.objectRef<OperationsStatus>('StoreOperations').implement({
  description: "The store's embedding spaces and the re-embedding that moves between them.",
  fields: (t) => ({
    reembedding: t.field({ type: ReembeddingType, resolve: (status) => status.reembedding }),
    activeGeneration: t.exposeInt('activeGeneration', { description: 'The generation whose space serves.' }),
    retiredGenerations: t.exposeIntList('retiredGenerations', {
      description: 'Generations switched away from, kept until dropped (dropRetiredSpaces).',
    }),
  }),
});

builder.queryField('storeOperations', (t) =>
  t.field({
    type: OperationsStatusType,
    description: 'For operator keys: the embedding spaces and any re-embedding (FORBIDDEN to other keys).',
    resolve: (_root, _args, context) => context.services.operations.status(),
  }),
);

builder.mutationFields((t) => ({
  reembed: t.field({
    type: OperationsStatusType,
    description:
      'For operator keys: builds the embedding space of another model of the configured provider from the stored chunks, beside the one that serves, then switches to it at once; returns when it has started. Searches and answers keep using the old space until the switch. Resumable: after a crash, start it again.',
    args: {
      model: t.arg.string({ required: true }),
      dimensions: t.arg.int({
        required: false,
        description: "For models that take a size; else the model's own.",
      }),
    },
    resolve: (_root, args, context) => context.services.operations.reembed(args.model, args.dimensions),
  }),
  abandonReembedding: t.int({
    nullable: true,
    description:
      'For operator keys: deletes a build that stopped before its switch (failed, or its process died), so that another model can be built; returns its generation, null when there was none. One that runs is refused.',
    resolve: (_root, _args, context) => context.services.operations.abandonReembedding(),
  }),
  dropRetiredSpaces: t.intList({
    description:
      'For operator keys: deletes the spaces earlier switches left behind; returns their generations.',
    resolve: (_root, _args, context) => context.services.operations.dropRetiredSpaces(),
  }),
}));

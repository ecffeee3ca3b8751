import type { ServerInfo } from '../rag/index.ts';
import { builder } from './builder.ts';

const ServerInfoType = builder.objectRef<ServerInfo>('ServerInfo').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    store: t.exposeString('store', { description: 'embedded or weaviate.' }),
    embedder: t.exposeString('embedder', {
      nullable: true,
      description: 'provider/model of the embedder; null when search is keyword-only.',
    }),
    generator: t.exposeString('generator'),
  }),
});

builder.queryField('serverInfo', (t) =>
  t.field({ type: ServerInfoType, resolve: (_root, _args, context) => context.services.info }),
);

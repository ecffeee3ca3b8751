import { definePlugin, z } from 'ragql/plugin';

/** The default retriever: the store's own search, keyword and vector fused as the request's alpha says. */
export default definePlugin({
  name: 'hybrid',
  kind: 'retriever',
  version: '1.0.0',
  description: "The store's hybrid search (BM25 and vectors fused by alpha), the default retriever.",
  options: z.object({}),
  create: (context) => ({
    async retrieve(query) {
      return { candidates: await context.search({ text: query.text, limit: query.limit }) };
    },
  }),
});

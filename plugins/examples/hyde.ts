/**
 * An example third-party plugin: HyDE (hypothetical document embeddings, Gao et al. 2022). The
 * chat model writes a short passage that would answer the query; the passage, not the query, is
 * embedded and searched, since it looks more like the documents than a question does. Load it with
 * RAGQL_PLUGINS_DIR=plugins/examples, then pass `retriever: { name: "hyde" }`.
 */
import { definePlugin, z } from 'ragql/plugin';

export default definePlugin({
  name: 'hyde',
  kind: 'retriever',
  version: '0.1.0',
  description: 'Embeds an LLM-written hypothetical answer passage and searches with it (HyDE).',
  options: z.object({
    maxWords: z.number().int().min(10).max(300).default(80).describe('Length of the hypothetical passage.'),
  }),
  create: (context, options) => ({
    async retrieve(query) {
      if (!context.chat || !context.embedder) {
        throw new Error('hyde needs both an LLM generator and an embedder');
      }
      const passage = await context.chat.complete(
        [
          {
            role: 'system',
            content: `Write a passage of at most ${options.maxWords} words that answers the question as an encyclopedia would.`,
          },
          { role: 'user', content: query.text },
        ],
        { maxOutputTokens: options.maxWords * 2 },
      );
      const [vector] = await context.embedder.embed([passage], 'document');
      const candidates = await context.search({
        text: query.text,
        limit: query.limit,
        ...(vector ? { vector } : {}),
      });
      return { candidates, details: { passage } };
    },
  }),
});

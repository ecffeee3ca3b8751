import { definePlugin, fuseByRank, z } from 'ragql/plugin';

const instructions = (count: number) =>
  `You rewrite search queries. Write ${count} different rephrasings of the user's query that could match ` +
  'documents the original wording misses: synonyms, more specific or more general terms. ' +
  'Answer with one rephrasing per line and nothing else.';

/**
 * Asks the chat model for rephrasings of the query, searches the original and every rephrasing
 * (embedded in one batch, searched in parallel) and fuses the lists by reciprocal rank. Without a
 * usable model it searches the original query alone and says why in its trace details.
 */
export default definePlugin({
  name: 'multi-query',
  kind: 'retriever',
  version: '1.0.0',
  description: 'Searches the query and LLM-written rephrasings of it, fusing the results by reciprocal rank.',
  options: z.object({
    queryCount: z.number().int().min(1).max(10).default(3).describe('Rephrasings to ask the model for.'),
  }),
  create: (context, options) => ({
    async retrieve(query) {
      let variants: string[] = [];
      let fallback: string | null = null;
      if (!context.chat) {
        fallback = 'no LLM is configured; searched the original query alone';
      } else {
        try {
          const reply = await context.chat.complete(
            [
              { role: 'system', content: instructions(options.queryCount) },
              { role: 'user', content: query.text },
            ],
            { maxOutputTokens: 100 * options.queryCount },
          );
          variants = rephrasingsIn(reply, query.text).slice(0, options.queryCount);
          if (variants.length === 0)
            fallback = 'the model wrote no rephrasing; searched the original query alone';
        } catch (error) {
          if (context.signal.aborted) throw error;
          context.logger.warn(
            { err: error },
            'multi-query: the model failed; searching the original query alone',
          );
          fallback = 'the model failed; searched the original query alone';
        }
      }
      const queries = [query.text, ...variants];
      const vectors =
        context.embedder && query.alpha > 0 ? await context.embedder.embed(queries, 'query') : [];
      const lists = await Promise.all(
        queries.map((text, index) => {
          const vector = vectors[index];
          return context.search({ text, limit: query.limit, ...(vector ? { vector } : {}) });
        }),
      );
      return {
        candidates: fuseByRank(lists).slice(0, query.limit),
        details: { queries, ...(fallback ? { fallback } : {}) },
      };
    },
  }),
});

/** The reply's lines, without list markers, quotes, blanks, repeats or the original query. */
function rephrasingsIn(reply: string, original: string): string[] {
  const seen = new Set([original.trim().toLowerCase()]);
  const rephrasings: string[] = [];
  for (const line of reply.split('\n')) {
    const text = line
      .replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '')
      .replace(/^["']|["']$/g, '')
      .trim();
    if (text === '' || seen.has(text.toLowerCase())) continue;
    seen.add(text.toLowerCase());
    rephrasings.push(text);
  }
  return rephrasings;
}

import { cosineSimilarity, definePlugin, z } from 'ragql/plugin';

/**
 * Maximal marginal relevance: picks candidates one at a time, each the best trade between
 * similarity to the query (weight lambda) and dissimilarity to those already picked, so that
 * near-duplicates give way to different content. Similarities are cosines of the stored chunk
 * vectors; without an embedder there are none, and the order is kept.
 */
export default definePlugin({
  name: 'mmr',
  kind: 'reranker',
  version: '1.0.0',
  description:
    'Maximal marginal relevance over the candidates’ embeddings: keeps relevant hits while dropping near-duplicates.',
  options: z.object({
    lambda: z.number().min(0).max(1).default(0.5).describe('1 = relevance only, 0 = diversity only.'),
  }),
  create: (context, options) => ({
    async rerank(query, candidates) {
      if (!context.embedder || candidates.length === 0) {
        return { candidates: candidates.slice(0, query.topN), details: { applied: false } };
      }
      const [queryVector] = await context.embedder.embed([query.text], 'query');
      const vectors = await context.embeddingsOf(candidates);
      const relevance = vectors.map((vector) =>
        vector && queryVector ? cosineSimilarity(vector, queryVector) : 0,
      );
      const remaining = candidates.map((_, index) => index);
      const picked: number[] = [];
      while (picked.length < query.topN && remaining.length > 0) {
        let best = 0;
        let bestScore = Number.NEGATIVE_INFINITY;
        remaining.forEach((candidate, position) => {
          const redundancy = Math.max(0, ...picked.map((other) => similarity(vectors, candidate, other)));
          const score = options.lambda * (relevance[candidate] ?? 0) - (1 - options.lambda) * redundancy;
          if (score > bestScore) {
            bestScore = score;
            best = position;
          }
        });
        const [chosen] = remaining.splice(best, 1);
        if (chosen !== undefined) picked.push(chosen);
      }
      return {
        candidates: picked.flatMap((index, rank) => {
          const candidate = candidates[index];
          // Scores fall with the pick order, which is the ranking MMR produces.
          return candidate ? [{ ...candidate, score: 1 / (rank + 1) }] : [];
        }),
        details: { applied: true, lambda: options.lambda },
      };
    },
  }),
});

function similarity(vectors: readonly (Float32Array | null)[], a: number, b: number): number {
  const first = vectors[a];
  const second = vectors[b];
  return first && second ? cosineSimilarity(first, second) : 0;
}

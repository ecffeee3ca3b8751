import { CohereClientV2 } from 'cohere-ai';
import { definePlugin, z } from 'ragql/plugin';

export interface CohereRerankSettings {
  /** The default model; a request may name another. */
  model: string;
  apiKey?: string;
  /** Any server that speaks Cohere's v2 API. @default https://api.cohere.com */
  baseUrl?: string;
}

/** Cohere's v2 rerank: the candidates' texts scored against the query by Cohere's model. */
export function cohereReranker(settings: CohereRerankSettings) {
  const client = new CohereClientV2({
    token: settings.apiKey ?? '',
    baseUrl: settings.baseUrl ?? 'https://api.cohere.com',
    maxRetries: 2,
  });
  return definePlugin({
    name: 'cohere',
    kind: 'reranker',
    version: '1.0.0',
    description: "Cohere's rerank model (v2 API) scores each candidate against the query.",
    options: z.object({
      model: z.string().min(1).default(settings.model).describe('A Cohere rerank model.'),
    }),
    create: (context, options) => ({
      async rerank(query, candidates) {
        if (candidates.length === 0) return { candidates: [], details: { model: options.model } };
        const response = await client.rerank(
          {
            model: options.model,
            query: query.text,
            documents: candidates.map((candidate) => candidate.chunk.content),
            topN: Math.min(query.topN, candidates.length),
          },
          { abortSignal: context.signal },
        );
        return {
          candidates: response.results.flatMap((result) => {
            const candidate = candidates[result.index];
            return candidate ? [{ ...candidate, score: result.relevanceScore }] : [];
          }),
          details: { model: options.model },
        };
      },
    }),
  });
}

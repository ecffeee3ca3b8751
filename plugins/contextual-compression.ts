import type { Candidate, PluginContext, RetrievalQuery } from 'ragql/plugin';
import { cosineSimilarity, definePlugin, PluginOptionError, z } from 'ragql/plugin';

/** What the model answers for a chunk with nothing relevant in it. */
const nothingRelevant = 'NO_OUTPUT';

const extractionInstructions =
  'Copy, word for word, the sentences of the passage that help answer the question. ' +
  `Change nothing and add nothing. If no sentence helps, answer ${nothingRelevant}.`;

/**
 * Runs another retriever (`base`), then shrinks each hit to what bears on the query: with an LLM,
 * the sentences the model extracts (a hit it finds nothing in is dropped); without one, the
 * sentences whose embedding is at least `threshold` similar to the query's; with neither (`auto`
 * on a server with no LLM and no embedder), the base hits unchanged, saying so in its trace.
 * Reports the text's size before and after.
 */
export default definePlugin({
  name: 'contextual-compression',
  kind: 'retriever',
  version: '1.0.0',
  description:
    'Wraps another retriever and keeps only the relevant sentences of each hit (by LLM extraction, or by embedding similarity without an LLM).',
  options: z.object({
    base: z.string().default('hybrid').describe('The retriever whose hits are compressed.'),
    baseOptions: z.record(z.string(), z.unknown()).optional().describe('Options for the base retriever.'),
    method: z
      .enum(['auto', 'llm', 'embeddings'])
      .default('auto')
      .describe(
        'auto: the LLM when one is configured, else embeddings, else no compression. llm and embeddings need an LLM or an embedder.',
      ),
    threshold: z
      .number()
      .min(-1)
      .max(1)
      .default(0.5)
      .describe('Embeddings method: the least cosine similarity a sentence needs to stay.'),
  }),
  // Compression only shortens the base retriever's hits.
  chunksPerHit: (options, chunksPerHitOf) =>
    chunksPerHitOf({ name: options.base, options: options.baseOptions }),
  create: (context, options) => ({
    async retrieve(query) {
      const base = await context.retrieve({ name: options.base, options: options.baseOptions }, query);
      const method = options.method === 'auto' ? automaticMethod(context) : options.method;
      const compressed =
        method === 'llm'
          ? await compressWithModel(context, query, base.candidates)
          : method === 'embeddings'
            ? await compressWithEmbeddings(context, query, base.candidates, options.threshold)
            : base.candidates;
      const size = (candidates: readonly Candidate[]) =>
        candidates.reduce((total, candidate) => total + candidate.chunk.content.length, 0);
      return {
        candidates: compressed,
        details: {
          base: options.base,
          method,
          charactersBefore: size(base.candidates),
          charactersAfter: size(compressed),
          dropped: base.candidates.length - compressed.length,
          ...(method === 'none'
            ? { fallback: 'no LLM and no embedder are configured; nothing was compressed' }
            : {}),
        },
      };
    },
  }),
});

function automaticMethod(context: PluginContext): 'llm' | 'embeddings' | 'none' {
  if (context.chat) return 'llm';
  return context.embedder ? 'embeddings' : 'none';
}

async function compressWithModel(
  context: PluginContext,
  query: RetrievalQuery,
  candidates: readonly Candidate[],
): Promise<Candidate[]> {
  const { chat } = context;
  if (!chat) {
    throw new PluginOptionError(
      'method',
      '"llm" needs an LLM that the caller\'s tier may use (RAGQL_GENERATOR); use "embeddings" or "auto".',
    );
  }
  const extracts = await Promise.all(
    candidates.map((candidate) =>
      chat.complete(
        [
          { role: 'system', content: extractionInstructions },
          { role: 'user', content: `Question: ${query.text}\n\nPassage:\n${candidate.chunk.content}` },
        ],
        { maxOutputTokens: 512 },
      ),
    ),
  );
  return candidates.flatMap((candidate, index) => {
    const extract = extracts[index]?.trim() ?? '';
    if (extract === '' || extract.includes(nothingRelevant)) return [];
    return [{ ...candidate, chunk: { ...candidate.chunk, content: extract } }];
  });
}

async function compressWithEmbeddings(
  context: PluginContext,
  query: RetrievalQuery,
  candidates: readonly Candidate[],
  threshold: number,
): Promise<Candidate[]> {
  const { embedder } = context;
  if (!embedder) {
    throw new PluginOptionError(
      'method',
      '"embeddings" needs an embedder (RAGQL_EMBEDDER); use "llm" or "auto".',
    );
  }
  const sentences = candidates.map((candidate) => sentencesOf(candidate.chunk.content));
  // Every sentence of every hit in one batch.
  const [[queryVector], vectors] = await Promise.all([
    embedder.embed([query.text], 'query'),
    embedder.embed(sentences.flat(), 'document'),
  ]);
  if (!queryVector) return [];
  let next = 0;
  return candidates.flatMap((candidate, index) => {
    const kept = (sentences[index] ?? []).filter(() => {
      const vector = vectors[next++];
      return vector !== undefined && cosineSimilarity(vector, queryVector) >= threshold;
    });
    if (kept.length === 0) return [];
    return [{ ...candidate, chunk: { ...candidate.chunk, content: kept.join(' ') } }];
  });
}

function sentencesOf(text: string): string[] {
  const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
  return [...segmenter.segment(text)].map((part) => part.segment.trim()).filter((part) => part !== '');
}

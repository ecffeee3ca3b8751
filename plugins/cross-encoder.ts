import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { definePlugin, z } from 'ragql/plugin';

export interface CrossEncoderSettings {
  /** A Hugging Face model id (downloaded on first use) or a local model folder. */
  model: string;
}

type Scorer = (query: string, passages: readonly string[]) => Promise<number[]>;

/**
 * A local cross-encoder through transformers.js (ONNX on the CPU): each (query, passage) pair is
 * tokenized together and the model's logit is the candidate's score. @huggingface/transformers is
 * an optional dependency, loaded on first use; the model is loaded once per process. The model is
 * a server setting, not a request option, so clients cannot make the server read other folders.
 */
export function crossEncoderReranker(settings: CrossEncoderSettings) {
  let scorer: Promise<Scorer> | undefined;
  const loadOnce = () => {
    scorer ??= loadScorer(settings.model);
    // A failed load (say, a model that could not be downloaded) is tried again by the next request.
    scorer.catch(() => {
      scorer = undefined;
    });
    return scorer;
  };
  return definePlugin({
    name: 'cross-encoder',
    kind: 'reranker',
    version: '1.0.0',
    description: `A local cross-encoder (${settings.model}) scores each query and candidate together.`,
    options: z.object({
      batchSize: z.number().int().min(1).max(256).default(32).describe('Pairs scored per model call.'),
    }),
    create: (context, options) => ({
      async rerank(query, candidates) {
        const score = await loadOnce();
        const scores: number[] = [];
        for (let start = 0; start < candidates.length; start += options.batchSize) {
          context.signal.throwIfAborted();
          const batch = candidates.slice(start, start + options.batchSize);
          scores.push(
            ...(await score(
              query.text,
              batch.map((candidate) => candidate.chunk.content),
            )),
          );
        }
        return {
          candidates: candidates
            .map((candidate, index) => ({ ...candidate, score: scores[index] ?? Number.NEGATIVE_INFINITY }))
            .sort((a, b) => b.score - a.score)
            .slice(0, query.topN),
          details: { model: settings.model },
        };
      },
    }),
  });
}

async function loadScorer(model: string): Promise<Scorer> {
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (error) {
    throw new Error(
      'The cross-encoder needs the optional dependency @huggingface/transformers (install it with ONNXRUNTIME_NODE_INSTALL=skip)',
      { cause: error },
    );
  }
  const folder = resolve(model);
  const local = existsSync(folder);
  const source = local ? folder : model;
  const options = { local_files_only: local, dtype: 'fp32', device: 'cpu' } as const;
  const [tokenizer, classifier] = await Promise.all([
    transformers.AutoTokenizer.from_pretrained(source, { local_files_only: local }),
    transformers.AutoModelForSequenceClassification.from_pretrained(source, options),
  ]);
  return async (query, passages) => {
    const inputs = tokenizer(
      passages.map(() => query),
      { text_pair: [...passages], padding: true, truncation: true },
    );
    const { logits } = (await classifier(inputs)) as { logits: { data: ArrayLike<number> } };
    return Array.from(logits.data);
  };
}

import { sha256Hex } from '../hash.ts';
import type { CachedAnswer, SimilarAnswer, SimilarAnswerCache, SimilarQuestion } from '../ports.ts';
import { cosineSimilarity } from '../ranking/vector-math.ts';
import type { TieredCache } from './tiered-cache.ts';

/** One earlier question on a set of sources, with its answer. */
export interface SimilarEntry {
  question: string;
  vector: number[];
  text: string;
}

/** Questions kept per tenant, model and sources: the latest, as a question asked again moves up. */
export const questionsPerSources = 8;

/**
 * The semantic answer cache: a question whose embedding is within `threshold` (cosine) of an
 * earlier question's, from the same tenant, for the same model and the very same sources, gets
 * that question's answer. Entries are grouped by tenant, model and sources (their content hashes),
 * so a lookup compares a handful of vectors, not a tenant's every question, and needs no vector
 * index; a changed document changes its chunks' hashes, and the answers made from it are never
 * found again. The groups live in a TieredCache: in process, and in Redis when it is configured.
 */
export class TieredSimilarAnswerCache implements SimilarAnswerCache {
  private readonly groups: TieredCache<SimilarEntry[]>;
  private readonly threshold: number;

  constructor(groups: TieredCache<SimilarEntry[]>, threshold: number) {
    this.groups = groups;
    this.threshold = threshold;
  }

  async find(question: SimilarQuestion): Promise<SimilarAnswer | undefined> {
    const entries = (await this.groups.get(groupKey(question))) ?? [];
    let best: SimilarAnswer | undefined;
    for (const entry of entries) {
      const similarity = cosineSimilarity(question.vector, entry.vector);
      if (similarity >= this.threshold && similarity > (best?.similarity ?? -1)) {
        best = { answer: { text: entry.text }, question: entry.question, similarity };
      }
    }
    return best;
  }

  async add(question: SimilarQuestion, answer: CachedAnswer): Promise<void> {
    const key = groupKey(question);
    const others = ((await this.groups.get(key)) ?? []).filter(
      (entry) => entry.question !== question.question,
    );
    const entry = { question: question.question, vector: [...question.vector], text: answer.text };
    await this.groups.set(key, [entry, ...others].slice(0, questionsPerSources));
  }
}

function groupKey({ tenant, model, sourcesKey, embeddingModel }: SimilarQuestion): string {
  return sha256Hex(JSON.stringify([tenant, model, sourcesKey, embeddingModel]));
}

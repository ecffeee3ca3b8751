/** The answer cache port: answers already given (the gateway's tiered cache implements it). */

/** What the answer cache keeps of a completed answer: the model's text. */
export interface CachedAnswer {
  text: string;
}

/** Where answers already given are kept, by a key the pipeline makes of tenant, model and prompt. */
export interface AnswerCache {
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer): Promise<void>;
}

/**
 * A question as the similar-answer cache compares it: answers are reused only within one tenant
 * and model, and only for the very sources (`sourcesKey`: their chunks' ids and content hashes, in
 * order, so that a cached answer's citation markers name the same texts).
 */
export interface SimilarQuestion {
  tenant: string;
  model: string;
  sourcesKey: string;
  question: string;
  /** The question's embedding, in the store's embedding space. */
  vector: Float32Array;
  /** The model that made `vector`: questions are compared only within one (re-embedding switches it). */
  embeddingModel: string;
}

/** An earlier question close enough to reuse its answer, and how close (cosine similarity). */
export interface SimilarAnswer {
  answer: CachedAnswer;
  question: string;
  similarity: number;
}

/** Answers to questions close to earlier ones on the same sources (the gateway's semantic cache). */
export interface SimilarAnswerCache {
  find(question: SimilarQuestion): Promise<SimilarAnswer | undefined>;
  add(question: SimilarQuestion, answer: CachedAnswer): Promise<void>;
}

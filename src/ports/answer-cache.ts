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

/**
 * The ports: the small, stable interfaces between ragql's pipeline (src/rag/) and its adapters
 * (src/stores/, src/providers/). The pipeline depends only on these types; every adapter
 * implements one of them and states its capabilities as fields, so callers batch, stream and
 * size their work without knowing the vendor behind it.
 *
 * One file per port in src/ports/, and every other module imports them from here:
 * - what the adapters implement: `embedder.ts`, `chat-model.ts`, `store.ts` (its documents'
 *   `metadata.ts` and the `filter.ts` their searches take) and `store-generations.ts` (a store's
 *   embedding spaces, one serving while the next is built);
 * - what the answer pipeline asks of the gateway and the caller's policy: `chat-router.ts` (a
 *   model per question), `token-budget.ts` (tokens held before each model call) and
 *   `answer-cache.ts` (answers given before).
 */

export * from './ports/answer-cache.ts';
export * from './ports/chat-model.ts';
export * from './ports/chat-router.ts';
export * from './ports/embedder.ts';
export * from './ports/filter.ts';
export * from './ports/metadata.ts';
export * from './ports/store.ts';
export * from './ports/store-generations.ts';
export * from './ports/token-budget.ts';

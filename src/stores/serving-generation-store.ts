import { RagqlError } from '../errors.ts';
import {
  type DocumentToStore,
  type EmbeddingSpace,
  type GenerationState,
  type StoreEngine,
  type StoreGenerations,
  type StoreReadiness,
  sealInForce,
  type TenantStore,
} from '../ports.ts';

/**
 * One generation's store, as a process serves from it: around each write it reads whether its
 * generation still serves. Another process that re-embedded the store (a `ragql reembed`, a
 * replica's `reembed` mutation) switched it to a new generation and model, and a write into the
 * retired one would be lost with it; so such writes are refused, and readiness says why (a load
 * balancer then stops sending requests), until this process has followed the switch (see
 * ReembeddingService.follow, which `onMoved` prompts) or starts again on the new model. Reads go
 * on from the retired generation, which holds what it held, until it is dropped.
 *
 * While that process copies its final pass it seals the record (see WriteSeal): writes here wait
 * it out (UPSTREAM_UNAVAILABLE with retryAfter), and one that was under way as the seal or the
 * switch came fails rather than report success, since the new space may have missed it.
 */
export class ServingGenerationStore implements StoreEngine {
  private readonly store: StoreEngine;
  /** The generation this store is. */
  readonly generation: number;
  private readonly generations: StoreGenerations;
  /** Called each time this store finds another generation serving: this process may follow it. */
  private readonly onMoved: (() => void) | undefined;

  constructor(store: StoreEngine, generation: number, generations: StoreGenerations, onMoved?: () => void) {
    this.store = store;
    this.generation = generation;
    this.generations = generations;
    this.onMoved = onMoved;
  }

  get kind(): string {
    return this.store.kind;
  }

  bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    return this.store.bindEmbeddingSpace(space);
  }

  forTenant(tenant: string): TenantStore {
    const store = this.store.forTenant(tenant);
    return {
      getDocuments: (ids) => store.getDocuments(ids),
      listDocuments: (request) => store.listDocuments(request),
      getChunks: (documentId) => store.getChunks(documentId),
      getChunkEmbeddings: (documentId) => store.getChunkEmbeddings(documentId),
      search: (request) => store.search(request),
      upsertDocuments: (documents: readonly DocumentToStore[]) =>
        this.whileServing(() => store.upsertDocuments(documents)),
      deleteDocument: (id) => this.whileServing(() => store.deleteDocument(id)),
    };
  }

  async readiness(): Promise<StoreReadiness> {
    const readiness = await this.store.readiness();
    if (!readiness.ready) return readiness;
    // A record that cannot be read this moment is the next write's to refuse on, not readiness's.
    const moved = await this.movedTo().catch(() => null);
    return moved === null ? readiness : { ready: false, reason: movedMessage(this.generation, moved) };
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** `write`, if this generation serves before it and still serves, unsealed since, after it. */
  private async whileServing<T>(write: () => Promise<T>): Promise<T> {
    const before = await this.generations.read();
    this.assertServing(before);
    const seal = sealInForce(before);
    if (seal) {
      throw new RagqlError(
        'UPSTREAM_UNAVAILABLE',
        'Another ragql process is switching this store to a new embedding space; write again in a moment.',
        { retryAfter: Math.ceil((seal.until - Date.now()) / 1000) },
      );
    }
    const result = await write();
    const after = await this.generations.read();
    if (after.active !== this.generation) this.onMoved?.();
    if (after.active !== this.generation || after.building?.sealed?.at !== before.building?.sealed?.at) {
      throw new RagqlError(
        'UPSTREAM_UNAVAILABLE',
        'Another ragql process began switching this store to a new embedding space while this write ran, so the new space may lack it; write it again.',
      );
    }
    return result;
  }

  private assertServing({ active }: GenerationState): void {
    if (active === this.generation) return;
    this.onMoved?.();
    throw new RagqlError('EMBEDDING_SPACE_MISMATCH', movedMessage(this.generation, active));
  }

  /** The generation that serves instead of this one, or null while this one does. */
  private async movedTo(): Promise<number | null> {
    const { active } = await this.generations.read();
    if (active === this.generation) return null;
    this.onMoved?.();
    return active;
  }
}

function movedMessage(generation: number, active: number): string {
  return `Another ragql process re-embedded this store: generation ${active} serves, not this process's ${generation}. Writes here would be lost with the retired space, so they are refused until this process has moved to generation ${active}, which it does by itself within seconds when its embedding provider serves that space: write again then, or start it again with the model re-embedding moved to (RAGQL_EMBEDDING_MODEL, RAGQL_EMBEDDING_DIMENSIONS).`;
}

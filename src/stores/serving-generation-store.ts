import { RagqlError } from '../errors.ts';
import type {
  DocumentToStore,
  EmbeddingSpace,
  StoreEngine,
  StoreGenerations,
  StoreReadiness,
  TenantStore,
} from '../ports.ts';

/**
 * One generation's store, as a process serves from it: before each write it reads whether its
 * generation still serves. Another process that re-embedded the store (a `ragql reembed`, a
 * replica's `reembed` mutation) switched it to a new generation and model, and a write into the
 * retired one would be lost with it; so such writes are refused, and readiness says why (a load
 * balancer then stops sending requests), until this process starts again on the new model. Reads
 * go on from the retired generation, which holds what it held, until it is dropped.
 */
export class ServingGenerationStore implements StoreEngine {
  private readonly store: StoreEngine;
  /** The generation this store is. */
  readonly generation: number;
  private readonly generations: StoreGenerations;

  constructor(store: StoreEngine, generation: number, generations: StoreGenerations) {
    this.store = store;
    this.generation = generation;
    this.generations = generations;
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
      upsertDocuments: async (documents: readonly DocumentToStore[]) => {
        await this.assertServing();
        await store.upsertDocuments(documents);
      },
      deleteDocument: async (id) => {
        await this.assertServing();
        return store.deleteDocument(id);
      },
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

  private async assertServing(): Promise<void> {
    const moved = await this.movedTo();
    if (moved !== null)
      throw new RagqlError('EMBEDDING_SPACE_MISMATCH', movedMessage(this.generation, moved));
  }

  /** The generation that serves instead of this one, or null while this one does. */
  private async movedTo(): Promise<number | null> {
    const { active } = await this.generations.read();
    return active === this.generation ? null : active;
  }
}

function movedMessage(generation: number, active: number): string {
  return `Another ragql process re-embedded this store: generation ${active} serves, not this server's ${generation}, so it refuses writes, which the retired space would lose. Start it again with the model that re-embedding moved to (RAGQL_EMBEDDING_MODEL, RAGQL_EMBEDDING_DIMENSIONS).`;
}

import type { EmbeddingSpace, StoreEngine, StoreGenerations, StoreReadiness, TenantStore } from '../ports.ts';
import { deferredTenantStore } from './deferred-tenant-store.ts';
import { ServingGenerationStore } from './serving-generation-store.ts';
import { assertTenantName } from './tenant-name.ts';

/**
 * The generation that serves, found on first use rather than at start-up: a remote store's record
 * of its generations cannot be read while the store is down, and ragql starts (and says why it is
 * not ready) all the same. Until the record is read, requests fail with the reading's error; once
 * it is, the generation's store serves, bound to the space given here.
 */
export class ActiveGenerationStore implements StoreEngine {
  readonly kind: string;
  private readonly generations: StoreGenerations;
  /** undefined until bound: keyword-only is null. */
  private space: EmbeddingSpace | null | undefined;
  private opening: Promise<ServingGenerationStore> | undefined;
  private opened: ServingGenerationStore | undefined;
  /** The store the space was last given to: the one opened, once it has been. */
  private spaceGivenTo: StoreEngine | undefined;

  /** Called when the generation opened finds another serving (ServingGenerationStore's). */
  private readonly onMoved: (() => void) | undefined;

  constructor(kind: string, generations: StoreGenerations, onMoved?: () => void) {
    this.kind = kind;
    this.generations = generations;
    this.onMoved = onMoved;
  }

  async bindEmbeddingSpace(space: EmbeddingSpace | null): Promise<void> {
    this.space = space;
    this.spaceGivenTo = undefined;
    await this.ready();
  }

  forTenant(tenant: string): TenantStore {
    assertTenantName(tenant);
    // Once open and bound, the generation's own tenant store, with nothing in between.
    if (this.opened && this.spaceGivenTo === this.opened) return this.opened.forTenant(tenant);
    return deferredTenantStore(async () => (await this.ready()).forTenant(tenant));
  }

  async readiness(): Promise<StoreReadiness> {
    let store: StoreEngine;
    try {
      store = await this.open();
    } catch (error) {
      // ragql's own words only: /readyz is open, and a store's message may name hosts and users.
      return { ready: false, reason: (error as Error).message };
    }
    // A binding that fails is what the store's own readiness reports, in its words.
    await this.giveSpace(store).catch(() => {});
    return store.readiness();
  }

  /** The generation that served when this process first asked: the one it serves. */
  async generation(): Promise<number> {
    return (await this.open()).generation;
  }

  async close(): Promise<void> {
    // One still opening is closed once open.
    const opened = await this.opening?.catch(() => undefined);
    await opened?.close();
  }

  /** The serving generation's store, bound to the space. */
  private async ready(): Promise<StoreEngine> {
    const store = await this.open();
    await this.giveSpace(store);
    return store;
  }

  /**
   * Binds the store to the space, once: the stores check a binding again on each request while
   * the check fails, so a second caller need not wait for this one's.
   */
  private async giveSpace(store: StoreEngine): Promise<void> {
    if (this.space === undefined || this.spaceGivenTo === store) return;
    this.spaceGivenTo = store;
    await store.bindEmbeddingSpace(this.space);
  }

  /** Reads which generation serves and opens it, once; again after a failed reading. */
  private open(): Promise<ServingGenerationStore> {
    if (!this.opening) {
      const opening = this.generations.read().then(async ({ active }) => {
        this.opened = new ServingGenerationStore(
          await this.generations.open(active),
          active,
          this.generations,
          this.onMoved,
        );
        return this.opened;
      });
      this.opening = opening;
      opening.catch(() => {
        if (this.opening === opening) this.opening = undefined;
      });
    }
    return this.opening;
  }
}

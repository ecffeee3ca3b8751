import type { Embedder, EmbedOptions, StoreEngine, TenantStore } from '../ports.ts';
import { SpaceGate } from '../rag/space-gate.ts';

/**
 * The store and the embedder every service uses, switched together to a new embedding space while
 * the server runs (re-embedding). The services hold the two facades below, which ask this for the
 * current pair at each call; the gate keeps a switch out of any request's middle.
 */
export class LiveSpace {
  readonly gate = new SpaceGate();
  readonly store: StoreEngine;
  readonly embedder: Embedder;
  private current: { store: StoreEngine; embedder: Embedder };
  /** The stores switched away from: they serve the requests that began before, and close with this. */
  private readonly retired: StoreEngine[] = [];

  constructor(store: StoreEngine, embedder: Embedder) {
    this.current = { store, embedder };
    this.store = storeFacade(() => this.current.store);
    this.embedder = embedderFacade(() => this.current.embedder);
  }

  get active(): { store: StoreEngine; embedder: Embedder } {
    return this.current;
  }

  /** Closes the stores switched away from, before their files are deleted. */
  async closeRetired(): Promise<void> {
    await Promise.all(this.retired.splice(0).map((store) => store.close()));
  }

  /** Makes the pair current; call it inside `gate.exclusive`. */
  switchTo(store: StoreEngine, embedder: Embedder): void {
    this.retired.push(this.current.store);
    this.current = { store, embedder };
  }

  async close(): Promise<void> {
    await Promise.all([this.current.store, ...this.retired.splice(0)].map((store) => store.close()));
  }
}

function storeFacade(current: () => StoreEngine): StoreEngine {
  return {
    get kind() {
      return current().kind;
    },
    bindEmbeddingSpace: (space) => current().bindEmbeddingSpace(space),
    forTenant: (tenant): TenantStore => current().forTenant(tenant),
    readiness: () => current().readiness(),
    // The live space closes every store it held.
    close: async () => {},
  };
}

function embedderFacade(current: () => Embedder): Embedder {
  return {
    specificationVersion: 'v1',
    get provider() {
      return current().provider;
    },
    get modelId() {
      return current().modelId;
    },
    get dimensions() {
      return current().dimensions;
    },
    get maxEmbeddingsPerCall() {
      return current().maxEmbeddingsPerCall;
    },
    embed: (texts: readonly string[], options: EmbedOptions) => current().embed(texts, options),
  };
}

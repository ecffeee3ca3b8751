import { badInput } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import {
  describeSpace,
  type Embedder,
  type GenerationState,
  type StoreEngine,
  type StoreGenerations,
  sameSpace,
  spaceOfEmbedder,
} from '../ports.ts';
import {
  type ReembeddingStatus,
  type ReembedProgress,
  type ReembedReport,
  reembed,
  refuseWhileSealed,
} from '../rag/reembedding.ts';
import { ServingGenerationStore } from '../stores/serving-generation-store.ts';
import type { LiveSpace } from './live-space.ts';

/**
 * Re-embedding as the operator runs it: one at a time per process, into a model of the configured
 * provider, on a store that keeps generations (rag/reembedding.ts does the work). And the other
 * side of it: a switch that another process on the store made is followed here, so that replicas
 * move to the new space without a restart.
 */
export class ReembeddingService {
  private readonly generations: StoreGenerations;
  private readonly live: LiveSpace;
  private readonly embedderFor: (model: string, dimensions: number | undefined) => Promise<Embedder | null>;
  private readonly embeddingBatchSize: number;
  private readonly logger: Logger;
  /** The generation this process serves: the one it opened, then each it switched to. */
  private servingGeneration: () => Promise<number>;
  private current: ReembeddingStatus = { state: 'idle' };
  /**
   * Set from the first step of a start or a drop to its end: one change to the generations at a
   * time, claimed before anything is awaited, so two calls cannot both pass the check.
   */
  private busy = false;
  /** The follow under way, so that the many requests that notice a switch start one between them. */
  private following: Promise<unknown> | null = null;
  /** When following last failed: the next try waits a check interval, rather than one per request. */
  private lastFailedFollow = Number.NEGATIVE_INFINITY;
  private readonly switchCheckMs: number;
  private readonly watcher: NodeJS.Timeout;
  private closed = false;

  constructor(options: {
    generations: StoreGenerations;
    live: LiveSpace;
    /** The configured provider's embedder for another model. */
    embedderFor: (model: string, dimensions: number | undefined) => Promise<Embedder | null>;
    embeddingBatchSize: number;
    logger: Logger;
    /** The generation the services opened. */
    servingGeneration: () => Promise<number>;
    /** How often the record is read for another process's switch. */
    switchCheckMs: number;
  }) {
    this.servingGeneration = options.servingGeneration;
    this.generations = options.generations;
    this.live = options.live;
    this.embedderFor = options.embedderFor;
    this.embeddingBatchSize = options.embeddingBatchSize;
    this.logger = options.logger;
    this.switchCheckMs = options.switchCheckMs;
    this.watcher = setInterval(() => this.followSoon(), this.switchCheckMs);
    this.watcher.unref();
  }

  get status(): ReembeddingStatus {
    return this.current;
  }

  generationState(): Promise<GenerationState> {
    return this.generations.read();
  }

  /**
   * Starts building `model`'s space and switching to it, and returns once the store took the new
   * space: refused when one runs already, the store is in that space or cannot hold it; `done`
   * settles when the switch is done (or the build failed, which is logged and kept in the status).
   */
  async start(
    model: string,
    dimensions?: number,
    onProgress?: (progress: ReembedProgress) => void,
    signal?: AbortSignal,
  ): Promise<{ done: Promise<ReembedReport> }> {
    this.claim();
    let embedder: Embedder | null;
    try {
      embedder = await this.embedderFor(model, dimensions);
      if (!embedder) throw badInput('Re-embedding needs an embedding provider (RAGQL_EMBEDDER).');
      const { active } = await this.generations.read();
      if (active !== (await this.servingGeneration())) {
        // It would copy the retired space, and retire the one that serves.
        throw badInput(
          `Another ragql process re-embedded this store (generation ${active} serves): start this one again on that model before re-embedding from it.`,
        );
      }
      if (sameSpace(spaceOfEmbedder(this.live.active.embedder), spaceOfEmbedder(embedder))) {
        throw badInput(`The store is in ${model}'s space (${embedder.dimensions} dimensions) already.`);
      }
    } catch (error) {
      this.busy = false;
      throw error;
    }
    const running: ReembeddingStatus = { state: 'running', model, progress: null };
    this.current = running;
    const started = Promise.withResolvers<void>();
    const done = reembed({
      generations: this.generations,
      serving: () => this.live.active.store,
      embedder,
      embeddingBatchSize: this.embeddingBatchSize,
      gate: this.live.gate,
      switchTo: (store, next, generation) => this.serve(store, next, generation),
      onProgress: (progress) => {
        running.progress = progress;
        onProgress?.(progress);
      },
      onStarted: started.resolve,
      signal,
    }).then(
      (report) => {
        this.current = { state: 'done', report };
        return report;
      },
      (error: unknown) => {
        this.current = { state: 'failed', model, message: (error as Error).message };
        this.logger.error({ err: error }, `Re-embedding into ${model} failed; run it again to resume.`);
        throw error;
      },
    );
    // Started by a request that does not wait for it: its failure is in the status and the log.
    done
      .catch(() => {})
      .finally(() => {
        this.busy = false;
      });
    // A build that fails before the store took its space fails the start too.
    await Promise.race([started.promise, done]);
    return { done };
  }

  /** Deletes the generations retired by earlier switches; returns which. */
  async dropRetired(): Promise<number[]> {
    return this.exclusively(async () => {
      const state = await this.generations.read();
      refuseWhileSealed(state);
      const { retired } = state;
      // No gated request uses a retired store after its switch; reads still in flight fail.
      await this.live.closeRetired();
      for (const generation of retired) await this.generations.drop(generation);
      const now = await this.generations.read();
      await this.generations.write({
        ...now,
        retired: now.retired.filter((generation) => !retired.includes(generation)),
      });
      return retired;
    });
  }

  /** Deletes a build that stopped (failed, or killed) so that another model can be built; returns its generation. */
  async abandonBuild(): Promise<number | null> {
    return this.exclusively(async () => {
      const state = await this.generations.read();
      if (!state.building) return null;
      refuseWhileSealed(state);
      const { generation } = state.building;
      // Recorded as retired before it is dropped: a run of it still going elsewhere finds it
      // abandoned before its next write, rather than switch to a dropped generation, and what a
      // failed drop leaves is dropRetired's to delete (its number is never handed out again).
      await this.generations.write({ ...state, building: null, retired: [...state.retired, generation] });
      // A run of it that sealed the record meanwhile wrote over this: it goes on, and is not dropped.
      const written = await this.generations.read();
      if (written.building?.generation === generation || written.active === generation) {
        throw badInput(
          `Another ragql process is running the build of generation ${generation} this moment, so it was not abandoned.`,
        );
      }
      await this.generations.drop(generation);
      const now = await this.generations.read();
      await this.generations.write({
        ...now,
        retired: now.retired.filter((retired) => retired !== generation),
      });
      this.current = { state: 'idle' };
      return generation;
    });
  }

  /**
   * Follows a switch another process made, in the background: once at a time, and after a failure
   * not before a check interval has passed. Called by the watcher and by the serving store when it
   * finds itself retired.
   */
  followSoon(): void {
    if (this.closed || this.following || this.busy) return;
    if (Date.now() - this.lastFailedFollow < this.switchCheckMs) return;
    this.following = this.followIfMoved().finally(() => {
      this.following = null;
    });
  }

  /** Stops watching for other processes' switches, once a follow under way is done. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    await this.following;
  }

  private async followIfMoved(): Promise<void> {
    let state: GenerationState;
    let serving: number;
    try {
      state = await this.generations.read();
      // Opens the serving generation on first use, which reads the record too.
      serving = await this.servingGeneration();
    } catch {
      // A store that cannot be read says so itself, on /readyz and to each request.
      return;
    }
    if (state.active === serving) return;
    try {
      await this.exclusively(() => this.follow(state));
    } catch (error) {
      this.lastFailedFollow = Date.now();
      this.logger.warn(
        { err: error },
        `Another ragql process switched the store to generation ${state.active}, and this one could not follow; it refuses writes until it does, or starts again on that model.`,
      );
    }
  }

  /**
   * Moves this process onto the generation another process switched the store to, with the
   * configured provider's embedder for its model: the new store and embedder replace the live pair
   * at once, inside the gate, as a switch of this process's own would.
   */
  private async follow({ active, activeSpace }: GenerationState): Promise<void> {
    if (!activeSpace) {
      throw new Error(`Generation ${active} serves, and the record does not say in which space.`);
    }
    const embedder = await this.embedderFor(activeSpace.modelId, activeSpace.dimensions);
    if (!embedder || !sameSpace(spaceOfEmbedder(embedder), activeSpace)) {
      throw new Error(
        `Generation ${active} is in ${describeSpace(activeSpace)}, which the configured provider does not embed in.`,
      );
    }
    const store = await this.generations.open(active);
    try {
      await store.bindEmbeddingSpace(activeSpace);
      // Closed meanwhile: the live space is closed, or closing, and takes no store.
      if (this.closed) throw new Error('ragql is stopping.');
    } catch (error) {
      await store.close();
      throw error;
    }
    await this.live.gate.exclusive(async () => this.serve(store, embedder, active));
    this.logger.info(
      { generation: active, model: activeSpace.modelId },
      'Followed the switch another ragql process made to a new embedding space.',
    );
  }

  /** Makes a generation's store and its space's embedder the ones the services use; inside the gate. */
  private serve(store: StoreEngine, embedder: Embedder, generation: number): void {
    this.live.switchTo(
      new ServingGenerationStore(store, generation, this.generations, () => this.followSoon()),
      embedder,
    );
    this.servingGeneration = async () => generation;
  }

  private claim(): void {
    if (this.busy) {
      throw badInput(
        this.current.state === 'running'
          ? `A re-embedding into ${this.current.model} runs already; wait for it to finish.`
          : 'The embedding spaces are being changed; try again in a moment.',
      );
    }
    this.busy = true;
  }

  private async exclusively<T>(work: () => Promise<T>): Promise<T> {
    this.claim();
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }
}

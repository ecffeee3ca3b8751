/**
 * The record of generations as processes on one store share it, on the embedded store and on
 * PostgreSQL + pgvector. The seal a re-embedding sets over its final pass, as another process
 * meets it: a write waits while the seal holds and goes through once it has lapsed; a write that
 * was under way as the seal (or the switch) came fails rather than report a success the new space
 * may lack; a final pass that runs out of time lifts the seal, fails the build for now, and leaves
 * it to resume. And a build abandoned leaves its number unused for good.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { storeGenerationsFor } from '../../src/composition/configured-store.ts';
import { LiveSpace } from '../../src/composition/live-space.ts';
import { ReembeddingService } from '../../src/composition/reembedding-service.ts';
import { RagqlError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type {
  Embedder,
  EmbedOptions,
  GenerationState,
  StoreEngine,
  StoreGenerations,
} from '../../src/ports.ts';
import { spaceOfEmbedder } from '../../src/ports.ts';
import { type Reembedding, reembed } from '../../src/rag/reembedding.ts';
import { SpaceGate } from '../../src/rag/space-gate.ts';
import { ServingGenerationStore } from '../../src/stores/serving-generation-store.ts';
import { deterministicEmbedding } from '../support/deterministic-embedding.ts';
import { usePostgres } from '../support/postgres.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { storedDocument } from '../support/stored-document.ts';

const tenant = 'harbour';

function embedderOf(modelId: string, dimensions: number): Embedder {
  return {
    specificationVersion: 'v1',
    provider: 'test',
    modelId,
    dimensions,
    maxEmbeddingsPerCall: 64,
    embed: async (texts) => ({
      embeddings: texts.map((text) => Float32Array.from(deterministicEmbedding(text, dimensions))),
    }),
  };
}
const oldModel = embedderOf('old-model', 16);
const newModel = embedderOf('new-model', 8);

/**
 * The new model, but the first time it embeds a text of `id` it runs `pause` first: a final pass
 * that takes a while, over a document written into the source as the seal came.
 */
function pausingOnce(id: string, pause: (options: EmbedOptions) => Promise<void>) {
  const paused = { done: false };
  const embedder: Embedder = {
    ...newModel,
    embed: async (texts, options) => {
      if (!paused.done && texts.some((text) => text.includes(id))) {
        paused.done = true;
        await pause(options);
      }
      return newModel.embed(texts, options);
    },
  };
  return { embedder, paused };
}

const documentNamed = (id: string) =>
  storedDocument({ id, texts: [`Boat ${id} moors at the quay.`], dimensions: oldModel.dimensions });

/**
 * The store's generations, with hooks the test can set: one run once, right after the next read,
 * before its caller sees the state read (another process's write landing just after this one
 * read); one run after each write has landed, with the state written (what another process does
 * while the record says so, or a write that lands and then fails to answer).
 */
function withHooks(generations: StoreGenerations) {
  let afterRead: (() => Promise<void>) | undefined;
  let afterWrite: ((state: GenerationState) => Promise<void>) | undefined;
  const hooked: StoreGenerations = {
    read: async () => {
      const state = await generations.read();
      const run = afterRead;
      afterRead = undefined;
      await run?.();
      return state;
    },
    write: async (state) => {
      await generations.write(state);
      await afterWrite?.(state);
    },
    open: (generation) => generations.open(generation),
    tenants: (generation) => generations.tenants(generation),
    drop: (generation) => generations.drop(generation),
    close: () => generations.close(),
  };
  return {
    generations: hooked,
    afterNextRead: (run: () => Promise<void>) => {
      afterRead = run;
    },
    afterEachWrite: (run: (state: GenerationState) => Promise<void>) => {
      afterWrite = run;
    },
  };
}

function sealCases(storeEnvironment: () => Record<string, string>) {
  let generations: StoreGenerations;
  let hooks: ReturnType<typeof withHooks>;
  /** Generation 0's store itself, which writes whatever the record says. */
  let source: StoreEngine;
  /** Generation 0 as a process that did not re-embed serves it. */
  let serving: ServingGenerationStore;
  /** The stores builds switched to, closed after each case. */
  const switchedTo: StoreEngine[] = [];

  beforeEach(async () => {
    generations = storeGenerationsFor(loadConfig(storeEnvironment()), createLogger('silent'));
    hooks = withHooks(generations);
    source = await generations.open(0);
    await source.bindEmbeddingSpace(spaceOfEmbedder(oldModel));
    serving = new ServingGenerationStore(source, 0, hooks.generations);
    await serving.forTenant(tenant).upsertDocuments(['boat-1', 'boat-2', 'boat-3'].map(documentNamed));
  });
  afterEach(async () => {
    for (const store of switchedTo.splice(0)) await store.close();
    await serving.close();
    await generations.close();
  });

  const building = () => ({ generation: 1, space: spaceOfEmbedder(newModel) });
  const sealedFor = async (fromNow: number, lasting: number): Promise<GenerationState> => {
    const at = Date.now() + fromNow;
    const state: GenerationState = {
      active: 0,
      building: { ...building(), sealed: { at, until: at + lasting } },
      retired: [],
      highest: 1,
    };
    await generations.write(state);
    return state;
  };
  const writeOf = (id: string) => serving.forTenant(tenant).upsertDocuments([documentNamed(id)]);
  const held = async (ids: string[]) =>
    (await serving.forTenant(tenant).getDocuments(ids)).map((document) => document?.id ?? null);

  it('refuses a write while the seal holds, saying for how long, and stores nothing of it', async () => {
    await sealedFor(0, 60_000);
    const refused = await writeOf('boat-4').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RagqlError);
    expect(refused).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      message: expect.stringMatching(/is switching this store to a new embedding space; write again/),
    });
    const { retryAfter } = (refused as RagqlError).details as { retryAfter: number };
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await expect(serving.forTenant(tenant).deleteDocument('boat-1')).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect(await held(['boat-4', 'boat-1'])).toEqual([null, 'boat-1']);
  });

  it('writes once a seal has lapsed (its process died in the final pass)', async () => {
    await sealedFor(-120_000, 60_000);
    await writeOf('boat-4');
    expect(await serving.forTenant(tenant).deleteDocument('boat-1')).toBe(true);
    expect(await held(['boat-4', 'boat-1'])).toEqual(['boat-4', null]);
  });

  it('fails a write under way as a seal came, or as the switch came, rather than report it stored', async () => {
    hooks.afterNextRead(async () => void (await sealedFor(0, 60_000)));
    await expect(writeOf('boat-4')).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      message: expect.stringMatching(
        /began switching this store .* while this write ran, so the new space may lack it/,
      ),
    });

    await generations.write({ active: 0, building: building(), retired: [], highest: 1 });
    hooks.afterNextRead(() => generations.write({ active: 1, building: null, retired: [0], highest: 1 }));
    await expect(writeOf('boat-5')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // Once the switch is read before the write, the write is refused outright, as before.
    await expect(writeOf('boat-6')).rejects.toMatchObject({ code: 'EMBEDDING_SPACE_MISMATCH' });
    expect(await held(['boat-6'])).toEqual([null]);
  });

  const switches: number[] = [];
  const jobOn = (gate = new SpaceGate()): Reembedding => ({
    generations,
    serving: () => serving,
    embedder: newModel,
    embeddingBatchSize: 16,
    gate,
    switchTo: (store, _embedder, generation) => {
      switchedTo.push(store);
      switches.push(generation);
    },
  });
  /** The service of a process that serves generation 0, as `options` change it. */
  const serviceOn = (
    live: LiveSpace,
    options: Partial<ConstructorParameters<typeof ReembeddingService>[0]> = {},
  ) =>
    new ReembeddingService({
      generations,
      live,
      embedderFor: async () => newModel,
      embeddingBatchSize: 16,
      logger: createLogger('silent'),
      servingGeneration: async () => 0,
      switchCheckMs: 60_000,
      ...options,
    });
  beforeEach(() => {
    switches.length = 0;
  });

  it('lifts the seal when the final pass runs out of time, and resumes the build later', async () => {
    const job = jobOn();
    await expect(reembed({ ...job, finalPassMs: 0 })).rejects.toThrow(
      /^The final pass could not copy what changed and switch in the 0 s it had, 3 times: .* it resumes\.$/,
    );
    expect(switches).toEqual([]);
    expect(await generations.read()).toEqual({ active: 0, building: building(), retired: [], highest: 1 });

    // Lifted: another process writes again, and the resumed build copies that write too.
    await writeOf('boat-4');
    const report = await reembed(job);
    expect(report).toMatchObject({ generation: 1, skipped: 3, copied: 1, removed: 0 });
    expect(switches).toEqual([1]);
    expect(await generations.read()).toEqual({
      active: 1,
      activeSpace: spaceOfEmbedder(newModel),
      building: null,
      retired: [0],
      highest: 1,
    });
    await expect(writeOf('boat-5')).rejects.toMatchObject({ code: 'EMBEDDING_SPACE_MISMATCH' });
  });

  it('gives a build after an abandoned one a number of its own', async () => {
    const live = new LiveSpace(serving, oldModel);
    const service = serviceOn(live);
    const stopping = new AbortController();
    await expect(
      reembed({ ...jobOn(live.gate), onStarted: () => stopping.abort(), signal: stopping.signal }),
    ).rejects.toThrow();
    expect(await service.abandonBuild()).toBe(1);
    expect(await generations.read()).toEqual({ active: 0, building: null, retired: [], highest: 1 });

    expect(await reembed(jobOn(live.gate))).toMatchObject({ generation: 2, copied: 3 });
    await service.close();
    expect(await generations.read()).toEqual({
      active: 2,
      activeSpace: spaceOfEmbedder(newModel),
      building: null,
      retired: [0],
      highest: 2,
    });
  });

  it("refuses another process's write while a real final pass holds the seal", async () => {
    const refusals: unknown[] = [];
    hooks.afterEachWrite(async (state) => {
      if (state.building?.sealed) refusals.push(await writeOf('boat-4').catch((error: unknown) => error));
    });
    await reembed({ ...jobOn(), generations: hooks.generations });
    // At the seal, and at its renewal for the switch.
    expect(refusals).toEqual([
      expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }),
      expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }),
    ]);
    expect(await held(['boat-4'])).toEqual([null]);
  });

  it('stops a final pass that runs out of time, lifts its seal, catches up and seals again', async () => {
    // boat-9 waits until its pass is stopped.
    const slow = pausingOnce('boat-9', async (options) => {
      await new Promise<void>((resolve, reject) => {
        const failsafe = setTimeout(() => reject(new Error('the final pass was never stopped')), 10_000);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(failsafe);
          resolve();
        });
      });
      options.signal?.throwIfAborted();
    });
    const states: string[] = [];
    hooks.afterEachWrite(async (state) => {
      const sealed = Boolean(state.building?.sealed);
      states.push(state.active === 1 ? 'switched' : sealed ? 'sealed' : 'building');
      // A write that began before the seal came lands in the source during the final pass.
      if (sealed && states.filter((name) => name === 'sealed').length === 1) {
        await source.forTenant(tenant).upsertDocuments([documentNamed('boat-9')]);
      }
    });
    const report = await reembed({
      ...jobOn(),
      generations: hooks.generations,
      embedder: slow.embedder,
      finalPassMs: 2_000,
    });
    // The second seal is renewed once more for the switch.
    expect(states).toEqual(['building', 'sealed', 'building', 'sealed', 'sealed', 'switched']);
    expect(slow.paused.done).toBe(true);
    expect(report).toMatchObject({ generation: 1, copied: 4 });
    const [target] = switchedTo;
    const copied = await target?.forTenant(tenant).getDocuments(['boat-9']);
    expect(copied?.map((document) => document?.id)).toEqual(['boat-9']);
  });

  /** A lease far shorter than the default, renewed often, so that a pass outlasts several. */
  const shortLease = { leaseMs: 1_500, renewEveryMs: 100, slackMs: 500 };
  /**
   * Names each state written into `states` ('building', 'sealed <at>', 'switched'), and writes
   * boat-9 into the source once the first seal lands, as a write the seal overtook; `then` runs
   * last, told whether the write renewed a seal.
   */
  const recordStates = (states: string[], then?: (renewal: boolean) => void) =>
    hooks.afterEachWrite(async (state) => {
      const at = state.building?.sealed?.at;
      const name = state.active === 1 ? 'switched' : at ? `sealed ${at}` : 'building';
      const renewal = at !== undefined && states.includes(name);
      states.push(name);
      if (at && states.filter((written) => written.startsWith('sealed')).length === 1) {
        await source.forTenant(tenant).upsertDocuments([documentNamed('boat-9')]);
      }
      then?.(renewal);
    });

  /** A build with `embedder`, the record hooked, its final pass given time to outlast leases. */
  const reembedUnderShortLease = (embedder: Embedder) =>
    reembed({
      ...jobOn(),
      generations: hooks.generations,
      embedder,
      finalPassMs: 10_000,
      sealLease: shortLease,
    });

  it('renews the seal while a final pass outlasts its lease, and refuses writes all along', async () => {
    const states: string[] = [];
    recordStates(states);
    let refused: unknown;
    // Well past the first lease's end, another process writes.
    const slow = pausingOnce('boat-9', async () => {
      await sleep(2 * shortLease.leaseMs);
      refused = await writeOf('boat-4').catch((error: unknown) => error);
    });
    const report = await reembedUnderShortLease(slow.embedder);
    expect(refused).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(report).toMatchObject({ generation: 1, copied: 4 });
    // One seal, renewed (the same `at`) more than once, then the switch.
    const seals = states.filter((name) => name.startsWith('sealed'));
    expect(new Set(seals).size).toBe(1);
    expect(seals.length).toBeGreaterThan(2);
    expect(states.at(-1)).toBe('switched');
    expect(await held(['boat-4'])).toEqual([null]);
  });

  it('does not switch on a seal whose renewal failed: it lifts it, catches up and seals again', async () => {
    const states: string[] = [];
    let failed = false;
    recordStates(states, (renewal) => {
      // The first renewal lands, but fails to answer: the lease cannot count on it.
      if (renewal && !failed) {
        failed = true;
        throw new Error('connection reset');
      }
    });
    const slow = pausingOnce('boat-9', () => sleep(5 * shortLease.renewEveryMs));
    const report = await reembedUnderShortLease(slow.embedder);
    expect(failed).toBe(true);
    expect(report).toMatchObject({ generation: 1, copied: 4 });
    const seals = [...new Set(states.filter((name) => name.startsWith('sealed')))];
    expect(seals).toHaveLength(2);
    // The first seal was lifted before the second was taken.
    const firstSealEnds = states.lastIndexOf(seals[0] ?? '');
    expect(states.slice(firstSealEnds + 1, states.indexOf(seals[1] ?? ''))).toContain('building');
    expect(states.at(-1)).toBe('switched');
  });

  it('does not switch on a seal another process wrote over: replicas may have written since', async () => {
    const states: string[] = [];
    let erased = false;
    recordStates(states);
    const recording = hooks.generations.write;
    hooks.generations.write = async (state) => {
      await recording(state);
      // A drop's write, from a read taken just before the seal, lands just after it.
      if (state.building?.sealed && !erased) {
        erased = true;
        await generations.write({ ...state, building: building() });
      }
    };
    const report = await reembed({ ...jobOn(), generations: hooks.generations, sealLease: shortLease });
    expect(erased).toBe(true);
    expect(report).toMatchObject({ generation: 1 });
    expect(new Set(states.filter((name) => name.startsWith('sealed'))).size).toBe(2);
    expect(states.at(-1)).toBe('switched');
  });

  it('switches when the switch landed and its write failed to answer', async () => {
    let failed = false;
    hooks.afterEachWrite(async (state) => {
      if (state.active === 1 && !failed) {
        failed = true;
        throw new Error('connection reset');
      }
    });
    expect(await reembed({ ...jobOn(), generations: hooks.generations })).toMatchObject({ generation: 1 });
    expect(failed).toBe(true);
    expect(switches).toEqual([1]);
    expect(await generations.read()).toMatchObject({ active: 1, building: null, retired: [0] });
  });

  it('stops before its next write once another process switched, or abandoned the build it runs', async () => {
    const elsewhere = async (change: Partial<GenerationState>) => {
      let done = false;
      hooks.afterEachWrite(async (state) => {
        // Right after this run recorded its build, before its first write.
        if (done || state.building?.sealed || state.active !== 0) return;
        done = true;
        await generations.write({ ...state, ...change });
      });
      return reembed({ ...jobOn(), generations: hooks.generations, embedder: counting });
    };
    let embedded = 0;
    const counting: Embedder = {
      ...newModel,
      embed: (texts, options) => {
        embedded += texts.length;
        return newModel.embed(texts, options);
      },
    };
    await expect(
      elsewhere({ active: 1, activeSpace: spaceOfEmbedder(newModel), building: null, retired: [0] }),
    ).rejects.toThrow(/^Another ragql process switched the store to generation 1 during the build/);
    await generations.write({ active: 0, building: null, retired: [], highest: 1 });
    await expect(elsewhere({ building: null })).rejects.toThrow(
      /^The build of generation 2 was abandoned, or replaced, by another ragql process while it ran\.$/,
    );
    // Stopped before its first write: nothing was copied into a generation that is not its own.
    expect(embedded).toBe(0);
    expect(switches).toEqual([]);
  });

  it('abandons a build by retiring it first, so that what a failed drop leaves is dropped later', async () => {
    const stopping = new AbortController();
    await expect(
      reembed({ ...jobOn(), onStarted: () => stopping.abort(), signal: stopping.signal }),
    ).rejects.toThrow();
    const written: GenerationState[] = [];
    hooks.afterEachWrite(async (state) => void written.push(state));
    const service = serviceOn(new LiveSpace(serving, oldModel), { generations: hooks.generations });
    expect(await service.abandonBuild()).toBe(1);
    await service.close();
    expect(written).toEqual([
      { active: 0, building: null, retired: [1], highest: 1 },
      { active: 0, building: null, retired: [], highest: 1 },
    ]);
  });

  it('does not switch to a build abandoned over its seal, nor abandon a build whose seal came over the abandon', async () => {
    // An abandon in another process lands just after this run sealed the record.
    hooks.afterEachWrite(async (state) => {
      if (state.building?.sealed) await generations.write({ ...state, building: null, retired: [1] });
    });
    await expect(reembed({ ...jobOn(), generations: hooks.generations })).rejects.toThrow(
      /^The build of generation 1 was abandoned, or replaced, by another ragql process while it ran\.$/,
    );
    expect(switches).toEqual([]);
    expect(await generations.read()).toMatchObject({ active: 0, building: null });

    // A run in another process seals the record just after this process wrote its abandon.
    const running = await sealedFor(0, 60_000);
    await generations.write({ ...running, building: building() });
    hooks.afterEachWrite(async (state) => {
      if (state.building === null) await generations.write(running);
    });
    const service = serviceOn(new LiveSpace(serving, oldModel), { generations: hooks.generations });
    await expect(service.abandonBuild()).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(
        /is running the build of generation 1 this moment, so it was not abandoned/,
      ),
    });
    await service.close();
    expect(await generations.read()).toEqual(running);
  });

  it('keeps watching, quietly, while the generation it serves cannot be opened', async () => {
    const service = serviceOn(new LiveSpace(serving, oldModel), {
      servingGeneration: () => Promise.reject(new RagqlError('UPSTREAM_UNAVAILABLE', 'The store is down.')),
    });
    service.followSoon();
    // A follow that failed this way would reject here, and in a server end the process.
    await expect(service.close()).resolves.toBeUndefined();
  });

  it('refuses to resume, abandon or drop while another process holds the seal', async () => {
    const sealed = await sealedFor(0, 60_000);
    await expect(reembed(jobOn())).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/is switching the store to generation 1 this moment; ask again/),
    });
    const service = serviceOn(new LiveSpace(serving, oldModel));
    await expect(service.abandonBuild()).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.dropRetired()).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await service.close();
    expect(await generations.read()).toEqual(sealed);
    expect(switches).toEqual([]);
  });

  it('once another generation serves: not ready, says why, refuses writes and reads on', async () => {
    let moved = 0;
    const watched = new ServingGenerationStore(source, 0, generations, () => moved++);
    await generations.write({
      active: 1,
      activeSpace: spaceOfEmbedder(newModel),
      building: null,
      retired: [0],
      highest: 1,
    });
    expect(await watched.readiness()).toEqual({
      ready: false,
      reason: expect.stringMatching(
        /^Another ragql process re-embedded this store: generation 1 serves, not this process's 0\./,
      ),
    });
    await expect(watched.forTenant(tenant).deleteDocument('boat-1')).rejects.toMatchObject({
      code: 'EMBEDDING_SPACE_MISMATCH',
    });
    const read = await watched.forTenant(tenant).getDocuments(['boat-1']);
    expect(read.map((document) => document?.id)).toEqual(['boat-1']);
    expect(moved).toBe(2);

    // Nor does this process re-embed from the retired generation: it would retire the one serving.
    const service = serviceOn(new LiveSpace(serving, oldModel));
    await expect(service.start('other-model')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/^Another ragql process re-embedded this store \(generation 1 serves\)/),
    });
    await service.close();
  });
}

describe('the record of generations, on the embedded store', () => {
  const dataDir = temporaryDataDir();
  afterAll(() => dataDir.remove());
  let run = 0;
  // A data folder per case, so that each starts with generation 0 serving.
  sealCases(() => ({ RAGQL_DATA_DIR: `${dataDir.path}/case-${run++}` }));
});

describe('the record of generations, on PostgreSQL + pgvector', () => {
  const postgres = usePostgres();
  afterEach(() => postgres.reset());
  sealCases(() => ({ RAGQL_STORE: 'postgres', DATABASE_URL: postgres.url }));
});

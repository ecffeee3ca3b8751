/**
 * Moving a store to a new embedding model without downtime: the new space is built as a new
 * generation beside the one that serves, from the stored chunks (no file is parsed again), a page
 * of documents at a time; then, with no request in flight, what changed meanwhile is copied and
 * the new generation takes over, with the new model, at once.
 *
 * The build can stop anywhere (a crash, a kill) and start again: a document whose revision the new
 * generation already holds is skipped, so a second run copies only what the first did not.
 */
import { deadline } from '../abort.ts';
import { badInput } from '../errors.ts';
import {
  type DocumentRecord,
  type DocumentToStore,
  describeSpace,
  type Embedder,
  type EmbeddingSpace,
  type GenerationState,
  type StoreEngine,
  type StoreGenerations,
  sameSpace,
  sealInForce,
  spaceOfEmbedder,
  type TenantStore,
} from '../ports.ts';
import { embedInBatches } from './embed-in-batches.ts';
import { type LeaseTimes, SealLease } from './seal-lease.ts';
import type { SpaceGate } from './space-gate.ts';

/** Documents read, compared and written at a time. */
const documentsPerPage = 100;
/** Copy passes before the switch: each copies what changed during the one before. */
const mostCatchUpPasses = 5;
/**
 * The time the final pass has, which holds other processes' writes (see WriteSeal), unless a job
 * sets it: this, or twice the last catch-up pass on a store that takes longer to read through.
 */
const leastFinalPassMs = 20_000;
/** Final passes tried, each after more catch-up passes, before the build gives up for now. */
const mostFinalPasses = 3;

export interface ReembedProgress {
  tenant: string;
  /** Documents of this tenant looked at so far in this pass. */
  done: number;
  /** Documents the tenant holds (as the pass began). */
  total: number;
}

export interface ReembedReport {
  /** The generation that serves now, in the new space. */
  generation: number;
  space: EmbeddingSpace;
  /** Documents embedded and written to the new generation, over every pass. */
  copied: number;
  /** Documents the new generation already held as they are when this run began (a resumed build). */
  skipped: number;
  /** Documents deleted from the serving generation while the build ran, so from the new one too. */
  removed: number;
}

/** What a re-embedding in this process is doing, for whoever asks (the CLI's bar, the operator's query). */
export type ReembeddingStatus =
  | { state: 'idle' }
  | { state: 'running'; model: string; progress: ReembedProgress | null }
  | { state: 'done'; report: ReembedReport }
  | { state: 'failed'; model: string; message: string };

export interface Reembedding {
  generations: StoreGenerations;
  /** The store that serves now, the source of the copy. */
  serving: () => StoreEngine;
  /** The new space's embedder. */
  embedder: Embedder;
  embeddingBatchSize: number;
  /** Requests run inside it; the final pass and the switch run alone in it. */
  gate: SpaceGate;
  /** Makes the new generation's store and embedder the ones the services use. */
  switchTo(store: StoreEngine, embedder: Embedder, generation: number): void;
  onProgress?: (progress: ReembedProgress) => void;
  /** Called once the new generation is bound to its space and recorded as building: the store took it. */
  onStarted?: () => void;
  signal?: AbortSignal;
  /** The longest the final pass may take; unless set, 20 s or twice the last catch-up pass. */
  finalPassMs?: number;
  /** How the final pass's seal is renewed; the defaults unless a test needs them shorter. */
  sealLease?: LeaseTimes;
}

/** Starts, resumes, abandons and drops wait while another process's final pass has the record sealed. */
export function refuseWhileSealed(state: GenerationState): void {
  if (sealInForce(state)) {
    throw badInput(
      `Another ragql process is switching the store to generation ${state.building?.generation} this moment; ask again once it is done.`,
    );
  }
}

/** Builds the new embedder's space as a new generation, copies into it until it is current, and switches to it. */
export async function reembed(job: Reembedding): Promise<ReembedReport> {
  const space = spaceOfEmbedder(job.embedder);
  const state = await job.generations.read();
  if (state.building && !sameSpace(state.building.space, space)) {
    throw badInput(
      `A new embedding space (${describeSpace(state.building.space)}) is being built already (generation ${state.building.generation}); finish it, or abandon it (abandonReembedding, or ragql reembed --abandon), before building ${describeSpace(space)}.`,
    );
  }
  refuseWhileSealed(state);
  const generation = state.building?.generation ?? state.highest + 1;
  const target = await job.generations.open(generation);
  const totals = { copied: 0, skipped: 0, removed: 0 };
  try {
    // Before the build is recorded: a space the store cannot hold (too wide, say) leaves no build to abandon.
    await target.bindEmbeddingSpace(space);
    // Written on a resume too: it clears the lapsed seal of a run killed in its final pass.
    await job.generations.write({
      ...state,
      building: { generation, space },
      highest: Math.max(state.highest, generation),
    });
    job.onStarted?.();
    const build: Build = { copiedFrom: state.active, generation, space, ownSeal: null };
    // Before each write into the new generation: another process's switch, abandon, or final
    // pass of this same build stops this run, rather than let it write into a generation that
    // may serve.
    const stillBuilding = async () => assertStillBuilding(await job.generations.read(), build);
    let firstPass = true;
    const pass = async (signal = job.signal) => {
      const counts = await copyPass(job, {
        source: job.serving(),
        target,
        generation,
        signal,
        stillBuilding,
      });
      totals.copied += counts.copied;
      // What the new generation held before this run; later passes find the first one's work.
      if (firstPass) totals.skipped = counts.skipped;
      firstPass = false;
      totals.removed += counts.removed;
      return counts.copied + counts.removed;
    };
    for (let finalPasses = 1; ; finalPasses++) {
      const lastPassMs = await catchUp(() => pass());
      // The final pass reads every document as a catch-up pass does.
      const limitMs = job.finalPassMs ?? Math.max(leastFinalPassMs, 2 * lastPassMs);
      const switched = await job.gate.exclusive(() =>
        finalPassAndSwitch(job, build, {
          limitMs,
          pass,
          switchServices: () => job.switchTo(target, job.embedder, generation),
        }),
      );
      if (switched) break;
      if (finalPasses === mostFinalPasses) {
        throw new Error(
          `The final pass could not copy what changed and switch in the ${Math.round(limitMs / 1000)} s it had, ${mostFinalPasses} times: documents change faster than the new model embeds them, or the store failed to renew the seal over other processes' writes. Run it again when fewer change; it resumes.`,
        );
      }
    }
  } catch (error) {
    await target.close();
    throw error;
  }
  return { generation, space, ...totals };
}

/**
 * Copy passes until one finds nothing new, or enough passes that what is left is for the final
 * one; returns how long the last took.
 */
async function catchUp(pass: () => Promise<number>): Promise<number> {
  for (let passes = 1; ; passes++) {
    const started = performance.now();
    const changes = await pass();
    if (changes === 0 || passes === mostCatchUpPasses) return performance.now() - started;
  }
}

/** The build a run carries out, as the record must go on saying while it writes. */
interface Build {
  /** The generation it copies, which must still serve. */
  copiedFrom: number;
  generation: number;
  space: EmbeddingSpace;
  /** When this run sealed the record, while the seal may still be on it. */
  ownSeal: number | null;
}

interface FinalPass {
  /** How long the copy may take before it gives up. */
  limitMs: number;
  /** A copy pass, stopped by the signal. */
  pass: (signal: AbortSignal) => Promise<number>;
  /** Makes the new generation the one this process's services use. */
  switchServices: () => void;
}

/**
 * With the requests of this process held (the gate), and other processes' writes sealed off, the
 * last copy and the switch; false when the copy ran out of time or the seal's lease did not hold,
 * and the seal is lifted for more catch-up passes. A seal this cannot lift (the store failed)
 * lapses by itself, within a lease.
 */
async function finalPassAndSwitch(
  job: Reembedding,
  build: Build,
  { limitMs, pass, switchServices }: FinalPass,
): Promise<boolean> {
  const now = await job.generations.read();
  assertStillBuilding(now, build);
  const { copiedFrom, generation, space } = build;
  const at = Date.now();
  // Its own before it is written: a seal write that fails to answer may have landed all the same.
  build.ownSeal = at;
  let lease: SealLease | undefined;
  let clock: ReturnType<typeof deadline> | undefined;
  let switched = false;
  try {
    lease = await SealLease.take(job.generations, now, { generation, space }, at, job.sealLease);
    const started = performance.now();
    const limit = deadline(job.signal, limitMs);
    clock = limit;
    // Another process may take a lapsed seal for gone, and write past the pass: it is of no use.
    lease.onLapse = () => limit.abort(new Error('The seal over other processes lapsed.'));
    try {
      await pass(limit.signal);
    } catch (error) {
      if (limit.timedOut() || lease.lapsed) return false;
      throw error;
    }
    if (performance.now() - started >= limitMs) return false;
    // Renewed once more, so the switch has a whole lease to land in; not if it lapsed meanwhile.
    if (!(await lease.renewedForTheSwitch())) return false;
    // Read again: an abandon, or another run of this build, may have written over the seal.
    const current = await job.generations.read();
    assertStillBuilding(current, build);
    // Whatever happens from here fails the build rather than return to catch-up passes: a switch
    // whose outcome is unknown may have landed, and the new generation may serve.
    await recordSwitch(job, {
      active: generation,
      activeSpace: space,
      building: null,
      retired: [
        ...current.retired.filter((retired) => retired !== copiedFrom && retired !== generation),
        copiedFrom,
      ],
      highest: current.highest,
    });
    switched = true;
    switchServices();
    return true;
  } finally {
    clock?.release();
    await lease?.stop();
    // A seal this cannot lift stays this run's own: its next passes write on under it.
    if (!switched) {
      await liftSeal(job, at).then(
        () => {
          build.ownSeal = null;
        },
        () => {},
      );
    }
  }
}

/** Writes the switch; a write that failed to answer may have landed, which the record says. */
async function recordSwitch(job: Reembedding, next: GenerationState): Promise<void> {
  try {
    await job.generations.write(next);
  } catch (error) {
    if ((await job.generations.read()).active !== next.active) throw error;
  }
}

/** The build this run carries out must still be the one recorded, from the generation it copies. */
function assertStillBuilding(state: GenerationState, build: Build): void {
  if (state.active !== build.copiedFrom) {
    throw new Error(
      `Another ragql process switched the store to generation ${state.active} during the build; this one copied generation ${build.copiedFrom}.`,
    );
  }
  if (state.building?.generation !== build.generation || !sameSpace(state.building.space, build.space)) {
    throw new Error(
      `The build of generation ${build.generation} was abandoned, or replaced, by another ragql process while it ran.`,
    );
  }
  const seal = sealInForce(state);
  if (seal && seal.at !== build.ownSeal) {
    throw new Error(
      `Another ragql process is switching to generation ${build.generation} (it runs the same build); this one stops.`,
    );
  }
}

/**
 * Lifts this run's seal, read again first: only while the record still carries it, so that
 * neither a switch nor another process's seal is undone by a copy of an older state.
 */
async function liftSeal(job: Reembedding, at: number): Promise<void> {
  const current = await job.generations.read();
  const building = current.building;
  if (!building || building.sealed?.at !== at) return;
  const { sealed: _lifted, ...unsealed } = building;
  await job.generations.write({ ...current, building: unsealed });
}

/** One tenant's copy within a pass. */
interface TenantCopy {
  tenant: string;
  from: TenantStore;
  to: TenantStore;
  signal: AbortSignal | undefined;
  stillBuilding: () => Promise<void>;
}

interface CopyPass {
  source: StoreEngine;
  target: StoreEngine;
  generation: number;
  signal: AbortSignal | undefined;
  /** Throws once the record no longer says this build runs; called before each write. */
  stillBuilding: () => Promise<void>;
}

/** One pass over every tenant: what the target lacks or holds in another revision is copied; what the source lost, removed. */
async function copyPass(
  job: Reembedding,
  { source, target, generation, signal, stillBuilding }: CopyPass,
): Promise<{ copied: number; skipped: number; removed: number }> {
  const counts = { copied: 0, skipped: 0, removed: 0 };
  const { active } = await job.generations.read();
  // A tenant whose documents were all deleted meanwhile is left in the new generation only.
  const tenants = new Set([
    ...(await job.generations.tenants(active)),
    ...(await job.generations.tenants(generation)),
  ]);
  for (const tenant of tenants) {
    signal?.throwIfAborted();
    const from = source.forTenant(tenant);
    const to = target.forTenant(tenant);
    const total = (await allIds(from)).length;
    // The source's documents as this pass saw them; one deleted after it is removed by the next pass.
    const kept = new Set<string>();
    for await (const page of pagesOf(from)) {
      signal?.throwIfAborted();
      for (const document of page) kept.add(document.id);
      const held = await to.getDocuments(page.map((document) => document.id));
      const stale = page.filter(
        (document, position) => held[position]?.revisionHash !== document.revisionHash,
      );
      counts.skipped += page.length - stale.length;
      if (stale.length > 0) await copyDocuments(job, { tenant, from, to, signal, stillBuilding }, stale);
      counts.copied += stale.length;
      job.onProgress?.({ tenant, done: kept.size, total });
    }
    const lost = (await allIds(to)).filter((id) => !kept.has(id));
    if (lost.length > 0) await stillBuilding();
    for (const id of lost) {
      await to.deleteDocument(id);
      counts.removed++;
    }
  }
  return counts;
}

/**
 * Embeds the documents' chunks with the new model and writes them into the new generation, the
 * record read before the embedding (which costs) and again before the write (after it, which takes
 * a while).
 */
async function copyDocuments(
  job: Reembedding,
  { tenant, from, to, signal, stillBuilding }: TenantCopy,
  documents: readonly DocumentRecord[],
): Promise<void> {
  await stillBuilding();
  const chunksOf = await Promise.all(documents.map((document) => from.getChunks(document.id)));
  // Each distinct text once: chunks shared by documents, or repeated in one, are embedded once.
  const texts = new Map<string, string>();
  for (const chunk of chunksOf.flat()) texts.set(chunk.contentHash, chunk.content);
  const { embeddings } = await embedInBatches(job.embedder, [...texts.values()], {
    purpose: 'document',
    tenant,
    batchSize: job.embeddingBatchSize,
    signal,
  });
  const vectors = new Map([...texts.keys()].map((hash, position) => [hash, embeddings[position]]));
  const writes: DocumentToStore[] = documents.map((document, position) => {
    const chunks = chunksOf[position] ?? [];
    return {
      ...document,
      chunkCount: chunks.length,
      chunks: chunks.map((chunk) => ({ ...chunk, embedding: vectors.get(chunk.contentHash) })),
    };
  });
  await stillBuilding();
  await to.upsertDocuments(writes);
}

async function* pagesOf(store: TenantStore): AsyncIterable<DocumentRecord[]> {
  let after: string | undefined;
  for (;;) {
    const page = await store.listDocuments({
      limit: documentsPerPage,
      filter: [],
      ...(after ? { after } : {}),
    });
    if (page.length === 0) return;
    yield page;
    after = page.at(-1)?.id;
    if (page.length < documentsPerPage) return;
  }
}

async function allIds(store: TenantStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of pagesOf(store)) ids.push(...page.map((document) => document.id));
  return ids;
}

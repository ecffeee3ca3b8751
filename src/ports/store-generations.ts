/**
 * A store that keeps more than one embedding space, each in a generation of its own: one serves,
 * and a new one is built beside it (re-embedding the stored chunks with another model) until it
 * is complete and takes over. Retired generations stay until they are dropped.
 */
import type { EmbeddingSpace, StoreEngine } from './store.ts';

export interface GenerationState {
  /** The generation that serves. */
  active: number;
  /**
   * The space the serving generation is in, recorded by the switch to it, so that other processes
   * on the store can follow; absent while generation 0 of a store never re-embedded serves.
   */
  activeSpace?: EmbeddingSpace;
  /** The generation being built, and the space it is built in; null when none is. */
  building: { generation: number; space: EmbeddingSpace; sealed?: WriteSeal } | null;
  /** Generations that served before, kept until dropped. */
  retired: number[];
  /**
   * The highest generation ever begun. A build takes the next, so no number is used twice, not
   * even an abandoned build's: a process still writing into that one cannot reach its successor.
   */
  highest: number;
}

/**
 * Set by the process that re-embeds while its final pass copies what is left and it switches:
 * other processes on the store refuse writes until `until` (milliseconds since the epoch, by
 * their clocks), which that process renews while it works (rag/seal-lease.ts), and fail a write
 * that was under way when the seal was set, since the final pass may have read past it. `at`
 * tells one seal from the next; a renewal keeps it.
 */
export interface WriteSeal {
  at: number;
  until: number;
}

/** The seal in force over the record this moment, by this process's clock; null when none is. */
export function sealInForce(state: GenerationState): WriteSeal | null {
  const seal = state.building?.sealed;
  return seal && seal.until > Date.now() ? seal : null;
}

export interface StoreGenerations {
  /** The generations as recorded; generation 0 serving when nothing was ever recorded. */
  read(): Promise<GenerationState>;
  /** Records a new state, atomically: a reader sees the old one or the new one whole. */
  write(state: GenerationState): Promise<void>;
  /** One generation's documents, as a store not yet bound to a space. */
  open(generation: number): Promise<StoreEngine>;
  /** The tenants whose documents a generation holds. */
  tenants(generation: number): Promise<string[]>;
  /** Removes a generation's documents for good (never the active one). */
  drop(generation: number): Promise<void>;
  /** Closes the connection the record is read through (not the stores `open` returned). */
  close(): Promise<void>;
}

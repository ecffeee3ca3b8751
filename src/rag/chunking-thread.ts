import { Worker } from 'node:worker_threads';
import type { PreparedChunk } from './chunk-preparation.ts';
import type { ChunkingOptions } from './chunking.ts';

/** Prepares a document's chunks; see ChunkingThread. */
export interface ChunkPreparer {
  prepare(text: string, options: ChunkingOptions): Promise<PreparedChunk[]>;
  close(): Promise<void>;
}

type Reply = { id: number; chunks: PreparedChunk[] } | { id: number; error: string };

/**
 * Chunking, hashing and analysing a document on a worker thread of its own. A 5 MB document takes
 * seconds of CPU (the tokenizer's byte-pair merges on every new word, then the English analysis),
 * and on the event loop that would stall every other request, health checks included, for as long.
 * One thread, started on first use: it works through the documents in order while the event loop
 * serves everything else; idle, it does not keep the process alive.
 */
export class ChunkingThread implements ChunkPreparer {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (chunks: PreparedChunk[]) => void; reject: (error: Error) => void }
  >();

  prepare(text: string, options: ChunkingOptions): Promise<PreparedChunk[]> {
    const worker = this.started();
    const id = this.nextId++;
    // Held while it has work, so that a process waiting only for it (the CLI) does not exit.
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, text, options });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./chunking-thread.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) waiting?.reject(new RangeError(reply.error));
      else waiting?.resolve(reply.chunks);
    });
    // A thread that dies fails what it held; the next document starts a new one.
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`The chunking thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

import { deadline, untilAborted } from '../abort.ts';
import { RequestThread } from '../threads/request-thread.ts';
import type { FileFormat } from './file-formats.ts';
import type { ParseReply, ParseRequest } from './parse-file.ts';
import { FileRefusedError, type ParsedFile } from './parsed-file.ts';

export interface ParsingLimits {
  /** Longest one file may take to parse before it is refused. @default 30 s */
  timeoutMs: number;
  /** Heap the parsing thread may grow to; a file that needs more is refused. @default 1024 MB */
  maxHeapMb: number;
  /**
   * Memory outside the heap (the buffers of decompressed streams and zip entries) the thread may
   * hold while it parses a file; a file that needs more is refused. @default 1024 MB
   */
  maxBuffersMb: number;
}

export const defaultParsingLimits: ParsingLimits = Object.freeze({
  timeoutMs: 30_000,
  maxHeapMb: 1024,
  maxBuffersMb: 1024,
});

/**
 * How often the thread's buffers are measured while it parses. A decompression bomb inflates at
 * about 1 GB/s, so it is stopped within some 50 MB of the limit.
 */
const bufferCheckMs = 50;

/** Whose file it is (tenants take turns at the parsing thread), and whether they still want it. */
export interface FileOwner {
  tenant: string;
  signal?: AbortSignal | undefined;
}

/**
 * Parses files on a worker thread of its own, one at a time, each within a time limit and memory
 * limits: a hostile or broken file (a PDF that loops, a decompression bomb) costs the thread,
 * which is stopped and started afresh, never the event loop or the process. V8 bounds the
 * thread's heap; its buffers, which V8 does not bound, are measured from here while it parses,
 * between the thread's steps (one native call that allocates at once is seen when it returns).
 *
 * Tenants take turns: the next file is that of the next tenant, in a rotation of those with files
 * waiting, after the one just served; each tenant's files go in the order they came. So a tenant's
 * many uploads keep another's file waiting for one of theirs at most. A file whose owner has gone
 * leaves the queue.
 */
export class ParsingThread {
  private readonly limits: ParsingLimits;
  private readonly thread: RequestThread<ParseRequest, ParseReply>;
  /** The files waiting, per tenant, in the rotation's order: the next turn is the first tenant's. */
  private readonly waiting = new Map<string, (() => void)[]>();
  /** The tenant whose file is being parsed (or skipped), or null while the thread is free. */
  private serving: string | null = null;

  constructor(limits: ParsingLimits = defaultParsingLimits) {
    this.limits = limits;
    this.thread = new RequestThread(new URL('./parse-file.ts', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
    });
  }

  /** The file's text and layout, parsed in `tenant`'s turn; FileRefusedError saying why it cannot be read. */
  async parse(format: FileFormat, bytes: Uint8Array, owner: FileOwner): Promise<ParsedFile> {
    await this.turnOf(owner);
    try {
      owner.signal?.throwIfAborted();
      return await this.parseNow(format, bytes);
    } finally {
      this.passTurn();
    }
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  /** Resolves in the owner's turn; rejects, leaving the queue, once the owner has gone. */
  private turnOf({ tenant, signal }: FileOwner): Promise<void> {
    signal?.throwIfAborted();
    if (this.serving === null) {
      this.serving = tenant;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', leave);
        resolve();
      };
      // The file, and its bytes, leave the queue with their owner rather than wait their turn.
      const leave = () => {
        const files = this.waiting.get(tenant) ?? [];
        const place = files.indexOf(start);
        if (place >= 0) files.splice(place, 1);
        if (files.length === 0) this.waiting.delete(tenant);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', leave, { once: true });
      const files = this.waiting.get(tenant);
      if (files) files.push(start);
      else this.waiting.set(tenant, [start]);
    });
  }

  /** Gives the thread to the tenant next in the rotation, which then goes to its end. */
  private passTurn(): void {
    // The tenant just served goes behind those that waited for it.
    const served = this.serving;
    const theirs = served === null ? undefined : this.waiting.get(served);
    if (served !== null && theirs) {
      this.waiting.delete(served);
      this.waiting.set(served, theirs);
    }
    const next = this.waiting.entries().next();
    if (next.done) {
      this.serving = null;
      return;
    }
    const [tenant, files] = next.value;
    const start = files.shift();
    this.waiting.delete(tenant);
    if (files.length > 0) this.waiting.set(tenant, files);
    this.serving = tenant;
    start?.();
  }

  private async parseNow(format: FileFormat, bytes: Uint8Array): Promise<ParsedFile> {
    const clock = deadline(undefined, this.limits.timeoutMs);
    const buffers = this.watchBuffers(() => clock.abort(new Error('the thread holds too many buffers')));
    try {
      const reply = await untilAborted(this.thread.request({ format, bytes }), clock.signal);
      if ('refused' in reply) throw new FileRefusedError(reply.refused);
      return reply.parsed;
    } catch (error) {
      if (buffers.exceeded()) {
        await this.thread.close();
        throw new FileRefusedError(
          `parsing it needed more than the ${this.limits.maxBuffersMb} MB of memory outside the heap allowed (decompressed data)`,
        );
      }
      if (clock.timedOut()) {
        await this.thread.close();
        throw new FileRefusedError(
          `parsing it took longer than ${this.limits.timeoutMs / 1000} s, the limit`,
        );
      }
      if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new FileRefusedError(
          `parsing it needed more than the ${this.limits.maxHeapMb} MB of memory allowed`,
        );
      }
      throw error;
    } finally {
      clock.release();
      buffers.stop();
    }
  }

  /** Calls `onExceeded` once the thread holds more buffers than allowed; stop it when the file is done. */
  private watchBuffers(onExceeded: () => void): { exceeded(): boolean; stop(): void } {
    const limitBytes = this.limits.maxBuffersMb * 1024 * 1024;
    let exceeded = false;
    /** One measurement at a time: a thread inside a long native call answers when it returns. */
    let measuring = false;
    const timer = setInterval(() => {
      if (measuring || exceeded) return;
      measuring = true;
      this.thread
        .heapStatistics()
        .then(
          (statistics) => {
            if ((statistics?.external_memory ?? 0) <= limitBytes) return;
            exceeded = true;
            onExceeded();
          },
          // A thread that is gone, or starting, has nothing to measure.
          () => {},
        )
        .finally(() => {
          measuring = false;
        });
    }, bufferCheckMs);
    timer.unref();
    return { exceeded: () => exceeded, stop: () => clearInterval(timer) };
  }
}

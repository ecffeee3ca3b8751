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
}

export const defaultParsingLimits: ParsingLimits = Object.freeze({ timeoutMs: 30_000, maxHeapMb: 1024 });

/**
 * Parses files on a worker thread of its own, one at a time, each within a time and a memory
 * limit: a hostile or broken file (a PDF that loops, a decompression bomb) costs the thread, which
 * is stopped and started afresh, never the event loop or the process. Files wait their turn in
 * the order they came; a file whose caller has gone is skipped.
 */
export class ParsingThread {
  private readonly limits: ParsingLimits;
  private readonly thread: RequestThread<ParseRequest, ParseReply>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(limits: ParsingLimits = defaultParsingLimits) {
    this.limits = limits;
    this.thread = new RequestThread(new URL('./parse-file.ts', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
    });
  }

  /** The file's text and layout; FileRefusedError saying why it cannot be read. */
  parse(format: FileFormat, bytes: Uint8Array, signal?: AbortSignal): Promise<ParsedFile> {
    const turn = this.queue.then(() => {
      signal?.throwIfAborted();
      return this.parseNow(format, bytes);
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  private async parseNow(format: FileFormat, bytes: Uint8Array): Promise<ParsedFile> {
    const clock = deadline(undefined, this.limits.timeoutMs);
    try {
      const reply = await untilAborted(this.thread.request({ format, bytes }), clock.signal);
      if ('refused' in reply) throw new FileRefusedError(reply.refused);
      return reply.parsed;
    } catch (error) {
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
    }
  }
}

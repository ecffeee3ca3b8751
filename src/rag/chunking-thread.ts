import { RequestThread } from '../threads/request-thread.ts';
import type { ChunkPreparationRequest, PreparedChunk } from './chunk-preparation.ts';
import type { ChunkingOptions } from './chunking.ts';

/** Prepares a document's chunks; see ChunkingThread. */
export interface ChunkPreparer {
  /** `sectionStarts`: where the document's sections begin, which no chunk crosses. */
  prepare(text: string, options: ChunkingOptions, sectionStarts: readonly number[]): Promise<PreparedChunk[]>;
  close(): Promise<void>;
}

/**
 * Chunking, hashing and analysing a document on a worker thread of its own. A 5 MB document takes
 * seconds of CPU (the tokenizer's byte-pair merges on every new word, then the English analysis),
 * and on the event loop that would stall every other request, health checks included, for as long.
 * One thread, started on first use: it works through the documents in order while the event loop
 * serves everything else.
 */
export class ChunkingThread implements ChunkPreparer {
  private readonly thread = new RequestThread<ChunkPreparationRequest, PreparedChunk[]>(
    new URL('./chunk-preparation.ts', import.meta.url),
  );

  prepare(
    text: string,
    options: ChunkingOptions,
    sectionStarts: readonly number[],
  ): Promise<PreparedChunk[]> {
    return this.thread.request({ text, options, sectionStarts });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/**
 * The CPU-heavy part of ingesting one document's text: cutting it into chunks, hashing each and
 * analysing its keyword terms. Pure, so that it can run on a worker thread (see chunking-thread.ts).
 */
import { sha256Hex } from '../hash.ts';
import { analyzeTerms } from '../text/analysis.ts';
import { type ChunkingOptions, chunkText, type TextChunk } from './chunking.ts';

export interface PreparedChunk extends TextChunk {
  /** sha256 of the chunk's text: an unchanged chunk keeps its stored vector. */
  contentHash: string;
  /** The chunk's analysed keyword terms, space-separated, as the stores index them. */
  keywordTerms: string;
}

export function prepareChunks(
  text: string,
  options: ChunkingOptions,
  sectionStarts: readonly number[] = [],
): PreparedChunk[] {
  return chunkText(text, options, sectionStarts).map((chunk) => ({
    ...chunk,
    contentHash: sha256Hex(chunk.content),
    keywordTerms: analyzeTerms(chunk.content).join(' '),
  }));
}

export interface ChunkPreparationRequest {
  text: string;
  options: ChunkingOptions;
  /** Where the document's sections begin: no chunk crosses one. */
  sectionStarts: readonly number[];
}

/** The chunking thread's work (see threads/request-thread.ts). */
export function handleRequest({ text, options, sectionStarts }: ChunkPreparationRequest): PreparedChunk[] {
  return prepareChunks(text, options, sectionStarts);
}

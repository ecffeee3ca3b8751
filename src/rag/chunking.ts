/**
 * Splits a document into chunks of at most `chunkSize` cl100k tokens for embedding.
 *
 * The text is cut at the coarsest boundary that yields pieces small enough: paragraphs (a blank
 * line), then sentences, then words. Pieces are packed greedily into chunks, and each chunk after
 * the first starts with the last words of the one before it (the overlap), so an idea cut at a
 * boundary is still whole in one of them. Cuts fall only next to whitespace or after 。！？, so never
 * inside a word or a surrogate pair. Chunks are slices of the original text, located by UTF-16
 * offsets, so a hit can be shown in its place. A document with sections (headings) is chunked one
 * section at a time, so that every chunk lies in one section.
 */
import { countTokens } from '../text/token-count.ts';

export interface ChunkingOptions {
  /** Most tokens in one chunk. @default `defaultChunkingOptions` */
  chunkSize: number;
  /** Tokens a chunk repeats from the end of the previous one, so an idea split at a boundary is found in both. @default `defaultChunkingOptions` */
  chunkOverlap: number;
}

export const defaultChunkingOptions: ChunkingOptions = Object.freeze({ chunkSize: 400, chunkOverlap: 60 });

export interface TextChunk {
  /** Position of the chunk in its document, from 0. */
  index: number;
  /** The chunk's text, without leading or trailing whitespace. */
  content: string;
  /** UTF-16 offset of the chunk's first character in the document. */
  startOffset: number;
  /** UTF-16 offset just past the chunk's last character: `text.slice(startOffset, endOffset) === content`. */
  endOffset: number;
}

/**
 * Chunks of `text` in order, each at most `options.chunkSize` tokens and each after the first led by
 * up to `options.chunkOverlap` tokens of whole words from the end of the one before. The one
 * exception to the size limit is a single word longer than a chunk (a long URL, a base64 blob): it
 * becomes a chunk of its own rather than fragments that match nothing. Blank text gives no chunks.
 *
 * @throws RangeError unless chunkSize is a whole number from 1 and chunkOverlap one from 0 to chunkSize - 1.
 */
export function chunkText(
  text: string,
  options: ChunkingOptions,
  sectionStarts: readonly number[] = [],
): TextChunk[] {
  assertValidOptions(options);
  // Every chunk but the first also carries up to chunkOverlap tokens of overlap; pieces that fit in
  // what is left keep the overlap at its full size next to any of them. A piece that opens a chunk
  // is trimmed, which can change its count, and must fit then too.
  const fits = (piece: Piece) =>
    piece.tokens <= options.chunkSize - options.chunkOverlap &&
    tokensAsChunkStart(text, piece) <= options.chunkSize;
  const chunks: TextChunk[] = [];
  for (const section of sectionsOf(text, sectionStarts)) {
    const contentEnd = Math.max(section.start, startOfWhitespace(text, section.end));
    if (skipWhitespace(text, section.start) >= contentEnd) continue;
    const pieces = splitUntilFits(text, { start: section.start, end: contentEnd }, fits, [
      PARAGRAPH_END,
      SENTENCE_END,
    ]);
    chunks.push(...packIntoChunks(text, pieces, options, chunks.length));
  }
  return chunks;
}

/**
 * The text cut at each section start, so that a chunk never runs from one section into the next:
 * a heading opens the chunk of its section, which is then the section the chunk names, and no
 * overlap carries the end of one section into the next.
 */
function sectionsOf(text: string, sectionStarts: readonly number[]): Span[] {
  const cuts = [...new Set(sectionStarts)]
    .filter((cut) => cut > 0 && cut < text.length)
    .sort((a, b) => a - b);
  return [0, ...cuts].map((start, position) => ({ start, end: cuts[position] ?? text.length }));
}

function assertValidOptions({ chunkSize, chunkOverlap }: ChunkingOptions): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a whole number of tokens, at least 1; got ${chunkSize}`);
  }
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    throw new RangeError(
      `chunkOverlap must be a whole number of tokens from 0 to chunkSize - 1 (${chunkSize - 1}); got ${chunkOverlap}`,
    );
  }
}

interface Span {
  start: number;
  end: number;
}

/**
 * A span the packer does not cut. It begins with the whitespace that separates it from the piece
 * before and ends on a non-whitespace character, so the pieces tile the text and each is counted
 * with its leading space, as the tokenizer sees it in running text (" unbelievable" is 1 token).
 *
 * A chunk's size is the sum of its pieces' counts instead of a recount of the chunk, which keeps
 * chunking linear. The sum can be off by a token where the tokenizer would merge across a join
 * (".\n\n" is one token, counted as two), so it errs high; CJK text joined without a space may
 * also differ slightly.
 */
interface Piece extends Span {
  tokens: number;
}

// Each boundary pattern matches the character just before a place where the text may be cut.
/** A blank line, which may hold spaces, follows. */
const PARAGRAPH_END = /\S(?=[^\S\n]*\n[^\S\n]*\n)/g;
/** CJK text puts no space after a sentence, so 。！？ end one wherever they are. */
const SENTENCE_END = /[.!?](?=\s)|[。！？]/g;
const WORD_END = /\S(?=\s)/g;

/** CJK sentence ends are boundaries even without whitespace after them. */
const CJK_SENTENCE_END = /[。！？]/;
const WHITESPACE = /\s/;

/** Cuts `span` at the first of `boundaries` that occurs in it, then cuts any part too big at the next. */
function splitUntilFits(
  text: string,
  span: Span,
  fits: (piece: Piece) => boolean,
  boundaries: readonly RegExp[],
): Piece[] {
  const [boundary, ...finerBoundaries] = boundaries;
  // Past the last boundary the span is cut into words, and a word stays whole even when it is longer
  // than a chunk, because fragments of a word (a URL, a hash) match neither words nor meaning.
  if (boundary === undefined) {
    return splitAtBoundaries(text, span, WORD_END).map((word) => measure(text, word));
  }
  const parts = splitAtBoundaries(text, span, boundary);
  if (parts.length === 1) return splitUntilFits(text, span, fits, finerBoundaries);
  return parts.flatMap((part) => {
    const piece = measure(text, part);
    return fits(piece) ? [piece] : splitUntilFits(text, part, fits, finerBoundaries);
  });
}

function splitAtBoundaries(text: string, span: Span, boundary: RegExp): Span[] {
  const parts: Span[] = [];
  let start = span.start;
  // Matching on the span's own slice stops the pattern from searching the rest of a large document.
  for (const match of text.slice(span.start, span.end).matchAll(boundary)) {
    const cut = span.start + match.index + match[0].length;
    if (cut < span.end) {
      parts.push({ start, end: cut });
      start = cut;
    }
  }
  parts.push({ start, end: span.end });
  return parts;
}

function measure(text: string, span: Span): Piece {
  return { start: span.start, end: span.end, tokens: tokensBetween(text, span.start, span.end) };
}

function tokensBetween(text: string, start: number, end: number): number {
  return countTokens(text.slice(start, end));
}

/**
 * Tokens of a piece when it opens a chunk. The chunk is trimmed, so the piece's first word loses
 * the whitespace it was counted with. A line break is a token of its own, so losing it only lowers
 * the count; a space is merged into the word, and the bare word can cost more ("unbelievable" is
 * 3 tokens, " unbelievable" 1).
 */
function tokensAsChunkStart(text: string, piece: Piece): number {
  const wordStart = skipWhitespace(text, piece.start);
  const charBeforeWord = text[wordStart - 1];
  if (wordStart === piece.start || charBeforeWord === '\n' || charBeforeWord === '\r') return piece.tokens;
  const wordEnd = endOfWord(text, wordStart, piece.end);
  return piece.tokens - tokensBetween(text, piece.start, wordEnd) + tokensBetween(text, wordStart, wordEnd);
}

/** Packs one section's pieces into chunks, numbered on from `firstIndex`. */
function packIntoChunks(
  text: string,
  pieces: Piece[],
  options: ChunkingOptions,
  firstIndex: number,
): TextChunk[] {
  const chunks: TextChunk[] = [];
  let filling: Piece | undefined;
  for (const piece of pieces) {
    if (filling && filling.tokens + piece.tokens <= options.chunkSize) {
      filling = { start: filling.start, end: piece.end, tokens: filling.tokens + piece.tokens };
      continue;
    }
    if (filling) chunks.push(toChunk(text, filling, firstIndex + chunks.length));
    filling = openChunk(text, piece, chunks.at(-1), options);
  }
  if (filling) chunks.push(toChunk(text, filling, firstIndex + chunks.length));
  return chunks;
}

/** A chunk holding `firstPiece`, led by the end of the previous chunk when there is room. */
function openChunk(
  text: string,
  firstPiece: Piece,
  previous: TextChunk | undefined,
  options: ChunkingOptions,
): Piece {
  const room = Math.min(options.chunkOverlap, options.chunkSize - firstPiece.tokens);
  const overlap = previous && room > 0 ? overlapFrom(text, previous, room) : undefined;
  if (overlap) {
    return { start: overlap.start, end: firstPiece.end, tokens: overlap.tokens + firstPiece.tokens };
  }
  return {
    start: skipWhitespace(text, firstPiece.start),
    end: firstPiece.end,
    tokens: tokensAsChunkStart(text, firstPiece),
  };
}

/**
 * The longest run of whole words at the end of `previous` that costs at most `maxTokens`, or
 * undefined when not even its last word fits. It never reaches the previous chunk's first word,
 * so every chunk starts further into the text than the one before.
 */
function overlapFrom(text: string, previous: TextChunk, maxTokens: number): Piece | undefined {
  let overlap: Piece | undefined;
  let wordEnd = previous.endOffset;
  // Words after the overlap's first word keep their leading whitespace, so they are counted with it.
  let tokensOfLaterWords = 0;
  while (true) {
    const wordStart = startOfWord(text, wordEnd, previous.startOffset);
    if (wordStart <= previous.startOffset) return overlap;
    const tokens = tokensOfLaterWords + tokensBetween(text, wordStart, wordEnd);
    if (tokens > maxTokens) return overlap;
    overlap = { start: wordStart, end: previous.endOffset, tokens };
    const separatorStart = startOfWhitespace(text, wordStart);
    tokensOfLaterWords += tokensBetween(text, separatorStart, wordEnd);
    wordEnd = separatorStart;
  }
}

function toChunk(text: string, span: Span, index: number): TextChunk {
  return { index, content: text.slice(span.start, span.end), startOffset: span.start, endOffset: span.end };
}

/** Where the word ending at `end` starts, looking back no further than `floor`. */
function startOfWord(text: string, end: number, floor: number): number {
  let position = end - 1;
  while (position > floor && !isWordStart(text, position)) position--;
  return position;
}

function isWordStart(text: string, position: number): boolean {
  const before = text[position - 1] ?? '';
  return WHITESPACE.test(before) || CJK_SENTENCE_END.test(before);
}

function endOfWord(text: string, start: number, limit: number): number {
  let position = start;
  while (position < limit && !WHITESPACE.test(text[position] ?? '')) position++;
  return position;
}

function skipWhitespace(text: string, start: number): number {
  let position = start;
  while (WHITESPACE.test(text[position] ?? '')) position++;
  return position;
}

/** Where the whitespace just before `end` starts (`end` itself when there is none). */
function startOfWhitespace(text: string, end: number): number {
  let position = end;
  while (position > 0 && WHITESPACE.test(text[position - 1] ?? '')) position--;
  return position;
}

import type { PageRange } from '../ports.ts';

/** Where a section of a document begins, and the headings it is under, outermost first. */
export interface SectionStart {
  /** UTF-16 offset of the section's heading in the document's content. */
  start: number;
  path: readonly string[];
}

/**
 * Where the pages and sections of a parsed file begin in the document's content, so that each
 * chunk can be told where it is: a citation can then name a page, and a hit its section.
 */
export interface DocumentLayout {
  /** UTF-16 offset of each page's first character, page 1 first; absent when the file has no pages. */
  pageStarts?: readonly number[];
  /** Every section, in the order they begin. */
  sections?: readonly SectionStart[];
}

export interface ChunkPlace {
  pages: PageRange | null;
  sectionPath: readonly string[];
}

/**
 * The pages a chunk from `startOffset` to `endOffset` is on, and the section it starts in. Binary
 * searches, so a document of thousands of chunks and pages costs a few steps per chunk.
 */
export function placeOfChunk(
  layout: DocumentLayout | undefined,
  startOffset: number,
  endOffset: number,
): ChunkPlace {
  const pageStarts = layout?.pageStarts ?? [];
  const sections = layout?.sections ?? [];
  const pages =
    pageStarts.length === 0
      ? null
      : {
          first: Math.max(1, lastAtOrBefore(pageStarts, (start) => start, startOffset) + 1),
          last: Math.max(1, lastAtOrBefore(pageStarts, (start) => start, endOffset - 1) + 1),
        };
  const section = sections[lastAtOrBefore(sections, (entry) => entry.start, startOffset)];
  return { pages, sectionPath: section?.path ?? [] };
}

/** Position of the last item whose offset is at most `offset`, -1 when there is none; items in order. */
function lastAtOrBefore<Item>(
  items: readonly Item[],
  offsetOf: (item: Item) => number,
  offset: number,
): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (offsetOf(items[middle] as Item) <= offset) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/** What is wrong with a layout for content of `contentLength` code units: offsets out of order or range. */
export function layoutProblems(layout: DocumentLayout, contentLength: number): string[] {
  const problems: string[] = [];
  const inOrder = (offsets: readonly number[]) =>
    offsets.every(
      (offset, position) =>
        Number.isInteger(offset) &&
        offset >= 0 &&
        offset <= contentLength &&
        (position === 0 || offset >= (offsets[position - 1] as number)),
    );
  if (layout.pageStarts && !inOrder(layout.pageStarts)) {
    problems.push('layout.pageStarts must be offsets into the content, in order');
  }
  if (layout.sections && !inOrder(layout.sections.map((section) => section.start))) {
    problems.push('layout.sections must begin at offsets into the content, in order');
  }
  return problems;
}

import type { Candidate, ChunkRecord } from 'ragql/plugin';
import { definePlugin, z } from 'ragql/plugin';

/**
 * The widest window: 41 chunks, some 16k tokens of the default chunk size, more than an answer's
 * sources may take. A whole document is cut to the same span around its match, so that the query
 * cost can count what a hit returns.
 */
const maxWindow = 20;
const maxSpan = 2 * maxWindow + 1;

/**
 * Searches small chunks, returns the text around them: each hit widens to its neighbouring chunks
 * (`window` on each side) or its whole document. Parents come once each, in the order of their
 * best child, scored as it, and say where that child lies (`match`) so clients can highlight it.
 */
export default definePlugin({
  name: 'parent-document',
  kind: 'retriever',
  version: '1.0.0',
  description:
    'Finds matching chunks and returns their surrounding text (neighbouring chunks or the whole document).',
  options: z.object({
    window: z
      .number()
      .int()
      .min(0)
      .max(maxWindow)
      .default(1)
      .describe('Neighbouring chunks on each side of a match.'),
    wholeDocument: z
      .boolean()
      .default(false)
      .describe(
        `Return the whole document instead of a window (at most ${maxSpan} chunks around the match).`,
      ),
  }),
  // What bounds the response: the query cost counts each hit as this many chunks.
  chunksPerHit: (options) => (options.wholeDocument ? maxSpan : 2 * options.window + 1),
  create: (context, options) => ({
    async retrieve(query) {
      // Several children may share a parent: search more of them than parents are wanted.
      const children = await context.search({ text: query.text, limit: query.limit * 3 });
      const chunksByDocument = new Map<string, Promise<ChunkRecord[]>>();
      const chunksOf = (documentId: string) => {
        let chunks = chunksByDocument.get(documentId);
        if (!chunks) {
          chunks = context.chunksOf(documentId);
          chunksByDocument.set(documentId, chunks);
        }
        return chunks;
      };
      const parents: { documentId: string; first: number; last: number; child: Candidate }[] = [];
      for (const child of children) {
        if (parents.length === query.limit) break;
        const { documentId, index } = child.chunk;
        const covered = parents.some(
          (parent) => parent.documentId === documentId && parent.first <= index && index <= parent.last,
        );
        if (covered) continue;
        const chunkCount = (await chunksOf(documentId)).length;
        if (chunkCount === 0) continue;
        const window = options.wholeDocument ? maxWindow : options.window;
        const [first, last] =
          options.wholeDocument && chunkCount <= maxSpan
            ? [0, chunkCount - 1]
            : [Math.max(0, index - window), Math.min(chunkCount - 1, index + window)];
        parents.push({ documentId, first, last, child });
      }
      const candidates = await Promise.all(
        parents.map(async ({ documentId, first, last, child }) => ({
          ...child,
          chunk: joinChunks((await chunksOf(documentId)).slice(first, last + 1), child.chunk),
          match: { startOffset: child.chunk.startOffset, endOffset: child.chunk.endOffset },
        })),
      );
      return {
        candidates,
        details: {
          childrenFound: children.length,
          window: options.wholeDocument ? 'document' : options.window,
        },
      };
    },
  }),
});

/**
 * One chunk spanning consecutive chunks, their overlaps counted once. Its content lines up with
 * the document's offsets (a gap between chunks, which the chunker only leaves at whitespace,
 * becomes spaces), so `match` offsets index into it. It keeps the matching child's content hash,
 * so plugins after it read the child's vector.
 */
function joinChunks(chunks: readonly ChunkRecord[], child: ChunkRecord): ChunkRecord {
  const [first] = chunks;
  if (!first) return child;
  let content = first.content;
  let end = first.endOffset;
  for (const chunk of chunks.slice(1)) {
    if (chunk.startOffset > end) content += ' '.repeat(chunk.startOffset - end);
    content += chunk.content.slice(Math.max(0, end - chunk.startOffset));
    end = Math.max(end, chunk.endOffset);
  }
  const last = chunks.at(-1) ?? first;
  return {
    id: first === last ? first.id : `${first.id}..${last.index}`,
    documentId: first.documentId,
    index: first.index,
    content,
    startOffset: first.startOffset,
    endOffset: end,
    contentHash: child.contentHash,
    // The joined text begins where the first chunk does and ends with the last one's pages.
    pages: first.pages && { first: first.pages.first, last: last.pages?.last ?? first.pages.last },
    sectionPath: first.sectionPath,
  };
}

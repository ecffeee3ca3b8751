import { z } from 'zod';
import type { ChunkRecord } from '../ports.ts';

/**
 * Where a chunk sits in its file (its pages and section path), as every store keeps it: one JSON
 * text field, because it is read with the chunk and never searched or filtered on, so one column
 * or property serves each store without an index. Chunks stored before ragql read pages and
 * sections have none, which reads as no pages and no section.
 */
export type ChunkLocation = Pick<ChunkRecord, 'pages' | 'sectionPath'>;

const storedLocation = z.object({
  pages: z.object({ first: z.number().int().min(1), last: z.number().int().min(1) }).optional(),
  section: z.array(z.string()).optional(),
});

const nowhere: ChunkLocation = Object.freeze({ pages: null, sectionPath: Object.freeze([]) });

/** The stored form; null for a chunk with neither pages nor a section, so plain text costs nothing. */
export function encodeChunkLocation({ pages, sectionPath }: ChunkLocation): string | null {
  if (pages === null && sectionPath.length === 0) return null;
  return JSON.stringify({
    ...(pages && { pages: { first: pages.first, last: pages.last } }),
    ...(sectionPath.length > 0 && { section: sectionPath }),
  });
}

export function decodeChunkLocation(stored: string | null | undefined): ChunkLocation {
  if (!stored) return nowhere;
  let json: unknown;
  try {
    json = JSON.parse(stored);
  } catch {
    return nowhere;
  }
  const parsed = storedLocation.safeParse(json);
  if (!parsed.success) return nowhere;
  return { pages: parsed.data.pages ?? null, sectionPath: parsed.data.section ?? [] };
}

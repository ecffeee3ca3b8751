import type { DocumentLayout } from '../rag/index.ts';

/** A file's text as ragql stores it, and where its pages and sections begin in that text. */
export interface ParsedFile {
  /** From the file itself (a PDF's or page's title, a document's first heading), when it has one. */
  title?: string;
  content: string;
  layout?: DocumentLayout;
  /** An HTML page's links as written (`href`s), for a crawl to follow; absent for other files. */
  links?: readonly string[];
}

/** Why a file was not stored: it cannot be parsed, is of a type ragql does not read, or holds no text. */
export class FileRefusedError extends Error {
  override name = 'FileRefusedError';
}

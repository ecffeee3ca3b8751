/**
 * A file's bytes to a document's text and layout, by format. Parsers run on the parsing thread
 * (parsing-thread.ts): a 50 MB PDF costs seconds of CPU and much memory, neither of which may be
 * the event loop's.
 */
import { parseDocx } from './docx-file.ts';
import { contentMatchesFormat, type FileFormat } from './file-formats.ts';
import { parseHtml } from './html-file.ts';
import { parseMarkdown } from './markdown-file.ts';
import { FileRefusedError, type ParsedFile } from './parsed-file.ts';
import { parsePdf } from './pdf-file.ts';
import { decodeText } from './text-file.ts';

const formatNames: Readonly<Record<FileFormat, string>> = {
  pdf: 'a PDF',
  docx: 'a Word document',
  html: 'an HTML page',
  markdown: 'Markdown',
  text: 'text',
};

export async function parseFile(format: FileFormat, bytes: Uint8Array): Promise<ParsedFile> {
  if (!contentMatchesFormat(format, bytes)) {
    throw new FileRefusedError(`its name or type says ${formatNames[format]}, but its content is not`);
  }
  switch (format) {
    case 'pdf':
      return parsePdf(bytes);
    case 'docx':
      return parseDocx(bytes);
    case 'html':
      return parseHtml(decodeText(bytes));
    case 'markdown':
      return parseMarkdown(decodeText(bytes));
    case 'text':
      return { content: decodeText(bytes) };
  }
}

export interface ParseRequest {
  format: FileFormat;
  bytes: Uint8Array;
}

/** A parsed file, or why it was refused: a reply, so the reason crosses the thread boundary as written. */
export type ParseReply = { parsed: ParsedFile } | { refused: string };

/** The parsing thread's work (see threads/request-thread.ts). */
export async function handleRequest({ format, bytes }: ParseRequest): Promise<ParseReply> {
  try {
    return { parsed: await parseFile(format, bytes) };
  } catch (error) {
    if (error instanceof FileRefusedError) return { refused: error.message };
    // A parser's own failure on a malformed file (a broken table in a PDF, an XML error in a Word file).
    return { refused: `it could not be parsed as ${formatNames[format]}` };
  }
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { DocumentInput, IngestReport } from '../rag/index.ts';
import { htmlToText } from './html-to-text.ts';

const documentExtensions = new Set(['.md', '.markdown', '.txt', '.html', '.htm']);
/** Documents per ingestion call: progress is kept between calls, and memory stays flat. */
const filesPerCall = 32;

export interface IngestTotals {
  created: number;
  updated: number;
  unchanged: number;
  /** Files that were not stored, each with why. */
  refused: { file: string; reason: string }[];
}

/**
 * A file ragql cannot read as a document: not UTF-8 text (a PDF, an image, an archive, text in
 * another encoding). Refused until ragql has a parser for its type, rather than stored as noise.
 */
export class NotTextFileError extends Error {
  override name = 'NotTextFileError';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Every document file named, or inside a named folder (recursively), sorted for a stable order. */
export async function collectDocumentFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) {
      for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && documentExtensions.has(extname(entry.name).toLowerCase())) {
          files.push(join(entry.parentPath, entry.name));
        }
      }
    } else {
      files.push(path);
    }
  }
  return [...new Set(files.map((file) => resolve(file)))].sort();
}

/**
 * Reads files into documents whose id is the path relative to the working directory, so ingesting
 * the same files again finds them UNCHANGED.
 */
export async function readDocumentFile(file: string): Promise<DocumentInput> {
  const raw = textOf(await readFile(file));
  const isHtml = ['.html', '.htm'].includes(extname(file).toLowerCase());
  const { title, text } = isHtml ? htmlToText(raw) : { title: markdownTitle(raw), text: raw };
  const id = relative(process.cwd(), file).split(sep).join('/');
  return { id, title: title ?? basename(file), content: text, source: id };
}

export async function ingestFiles(
  files: readonly string[],
  ingest: (documents: DocumentInput[]) => Promise<IngestReport>,
  options: { progress: boolean },
): Promise<IngestTotals> {
  const bar = options.progress
    ? new SingleBar({ format: 'ingesting [{bar}] {value}/{total} files' })
    : undefined;
  bar?.start(files.length, 0);
  const totals: IngestTotals = { created: 0, updated: 0, unchanged: 0, refused: [] };
  try {
    for (let start = 0; start < files.length; start += filesPerCall) {
      const batch = files.slice(start, start + filesPerCall);
      const documents: DocumentInput[] = [];
      for (const [index, read] of (await Promise.allSettled(batch.map(readDocumentFile))).entries()) {
        if (read.status === 'fulfilled') documents.push(read.value);
        else if (read.reason instanceof NotTextFileError) {
          totals.refused.push({ file: batch[index] ?? '', reason: read.reason.message });
        } else throw read.reason;
      }
      bar?.increment(batch.length - documents.length);
      if (documents.length === 0) continue;
      const report = await ingest(documents);
      totals.created += report.created;
      totals.updated += report.updated;
      totals.unchanged += report.unchanged;
      bar?.increment(documents.length);
    }
  } finally {
    bar?.stop();
  }
  return totals;
}

/**
 * The file's text; NotTextFileError when it holds a NUL byte (which no text document has, and
 * every binary format soon does) or bytes that are not UTF-8.
 */
function textOf(bytes: Buffer): string {
  if (bytes.includes(0)) throw new NotTextFileError('it holds binary data, not text');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new NotTextFileError('it is not UTF-8 text');
  }
}

function markdownTitle(text: string): string | undefined {
  return /^#\s+(.+)$/m.exec(text)?.[1]?.trim();
}

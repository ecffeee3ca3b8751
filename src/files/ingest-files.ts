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
}

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
  const raw = await readFile(file, 'utf8');
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
  const totals: IngestTotals = { created: 0, updated: 0, unchanged: 0 };
  try {
    for (let start = 0; start < files.length; start += filesPerCall) {
      const batch = files.slice(start, start + filesPerCall);
      const report = await ingest(await Promise.all(batch.map(readDocumentFile)));
      totals.created += report.created;
      totals.updated += report.updated;
      totals.unchanged += report.unchanged;
      bar?.increment(batch.length);
    }
  } finally {
    bar?.stop();
  }
  return totals;
}

function markdownTitle(text: string): string | undefined {
  return /^#\s+(.+)$/m.exec(text)?.[1]?.trim();
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { SingleBar } from 'cli-progress';
import { RagqlError } from '../errors.ts';
import type { DocumentInput, IngestReport } from '../rag/index.ts';
import type { DocumentFiles } from './document-files.ts';
import { documentExtensions } from './file-formats.ts';
import { FileRefusedError } from './parsed-file.ts';
import type { CrawlProgress, CrawlReport } from './site-crawl.ts';

/** Documents per ingestion call: progress is kept between calls, and memory stays flat. */
const filesPerCall = 32;

export interface IngestTotals {
  /** Files and pages stored, or found unchanged. */
  stored: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Files that were not stored, each with why. */
  refused: { file: string; reason: string }[];
}

function addReport(totals: IngestTotals, report: IngestReport): void {
  totals.stored += report.documents.length;
  totals.created += report.created;
  totals.updated += report.updated;
  totals.unchanged += report.unchanged;
}

/** Crawls each site in turn (see SiteCrawler), with a bar of its pages; what a crawl refuses is counted. */
export async function crawlSites(
  urls: readonly string[],
  crawl: (url: string, onProgress: (progress: CrawlProgress) => void) => Promise<CrawlReport>,
  totals: IngestTotals,
  options: { progress: boolean },
): Promise<void> {
  for (const url of urls) {
    const bar = options.progress
      ? new SingleBar({ format: 'crawling [{bar}] {value}/{total} pages' })
      : undefined;
    try {
      const report = await crawl(url, (progress) => {
        if (bar && progress.fetched === 1) bar.start(progress.maxPages, 0);
        bar?.update(progress.fetched);
      });
      addReport(totals, report);
      for (const page of report.refused) totals.refused.push({ file: page.url, reason: page.reason });
    } finally {
      bar?.stop();
    }
  }
}

/** Whether a command-line argument names a page to fetch rather than a file or folder. */
export function isUrl(argument: string): boolean {
  return /^https?:\/\//i.test(argument);
}

/**
 * Fetches and ingests pages one at a time, so that a page that cannot be had is refused and
 * counted while the rest go on, as files are.
 */
export async function ingestPages(
  urls: readonly string[],
  ingest: (url: string) => Promise<IngestReport>,
  totals: IngestTotals,
): Promise<void> {
  for (const url of urls) {
    try {
      addReport(totals, await ingest(url));
    } catch (error) {
      const problems =
        error instanceof RagqlError && error.code === 'BAD_USER_INPUT' ? error.details?.problems : undefined;
      if (!Array.isArray(problems)) throw error;
      for (const problem of problems) {
        totals.refused.push({ file: url, reason: String(problem).replace(/^[^ ]+: /, '') });
      }
    }
  }
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
 * the same files again finds them UNCHANGED, and ingests them a batch at a time. A file ragql
 * cannot read is refused and counted, and the rest go on.
 */
export async function ingestFiles(
  files: readonly string[],
  reader: DocumentFiles,
  options: {
    /** Whose files they are, and how they are ingested for them. */
    tenant: string;
    ingest: (documents: DocumentInput[]) => Promise<IngestReport>;
    progress: boolean;
  },
): Promise<IngestTotals> {
  const bar = options.progress
    ? new SingleBar({ format: 'ingesting [{bar}] {value}/{total} files' })
    : undefined;
  bar?.start(files.length, 0);
  const totals: IngestTotals = { stored: 0, created: 0, updated: 0, unchanged: 0, refused: [] };
  try {
    for (let start = 0; start < files.length; start += filesPerCall) {
      const batch = files.slice(start, start + filesPerCall);
      const documents: DocumentInput[] = [];
      for (const file of batch) {
        const id = relative(process.cwd(), file).split(sep).join('/');
        try {
          documents.push(
            await reader.documentOf({ name: file, bytes: await readFile(file) }, id, {
              tenant: options.tenant,
            }),
          );
        } catch (error) {
          if (!(error instanceof FileRefusedError)) throw error;
          totals.refused.push({ file, reason: error.message });
          bar?.increment();
        }
      }
      if (documents.length === 0) continue;
      addReport(totals, await options.ingest(documents));
      bar?.increment(documents.length);
    }
  } finally {
    bar?.stop();
  }
  return totals;
}

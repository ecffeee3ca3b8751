import { bulkhead } from 'cockatiel';
import { badInput } from '../errors.ts';
import type { DocumentRecord } from '../ports.ts';
import {
  type DocumentInput,
  type DocumentLabel,
  type IngestedDocument,
  type IngestReport,
  maxIdLength,
  nothingIngested,
} from '../rag/index.ts';
import type { DocumentFiles } from './document-files.ts';
import { type FetchedPage, type PageFetcher, type PageValidators, pageAsFile } from './page-fetcher.ts';
import { FileRefusedError } from './parsed-file.ts';

/** URLs one call may name: each is a fetch of up to the fetch time limit. */
export const maxUrlsPerCall = 100;
/** Pages fetched at once for one call. */
const fetchesAtOnce = 4;

/** A page's validators as last fetched, with the content they vouch for. */
export interface KnownPage extends PageValidators {
  contentHash: string;
}

/** Where the validators of pages already fetched are kept (the gateway's tiered cache fits). */
export interface KnownPages {
  get(key: string): Promise<KnownPage | undefined>;
  set(key: string, page: KnownPage): Promise<void>;
}

/** What URL ingestion needs of the pipeline, bound to one tenant. */
export interface TenantDocuments {
  tenant: string;
  ingest(documents: DocumentInput[], labelOf: DocumentLabel): Promise<IngestReport>;
  get(ids: readonly string[]): Promise<(DocumentRecord | null)[]>;
}

/**
 * Pages by URL into documents whose id and source are the URL. A page fetched before is asked for
 * with its ETag and Last-Modified: when the server says it has not changed and the stored document
 * is still the one those validators vouch for, it is UNCHANGED without being downloaded; otherwise
 * it is fetched, parsed by its type, and ingested, where an unchanged content hash makes it
 * UNCHANGED all the same. Every URL is fetched before anything is stored, and one that cannot be
 * had refuses the call (BAD_USER_INPUT naming each such URL), as an upload does.
 */
export class UrlIngestion {
  private readonly fetcher: PageFetcher;
  private readonly files: DocumentFiles;
  private readonly known: KnownPages | null;

  constructor(options: { fetcher: PageFetcher; files: DocumentFiles; known: KnownPages | null }) {
    this.fetcher = options.fetcher;
    this.files = options.files;
    this.known = options.known;
  }

  async ingest(
    urls: readonly string[],
    documents: TenantDocuments,
    signal?: AbortSignal,
  ): Promise<IngestReport> {
    const pages = validUrls(urls);
    const fetched = new Map<string, { document: DocumentInput; validators: PageValidators }>();
    const unchanged = new Map<string, IngestedDocument>();
    const problems: string[] = [];
    const fetching = bulkhead(fetchesAtOnce, Number.POSITIVE_INFINITY);
    const settled = await Promise.allSettled(
      pages.map((url) =>
        fetching.execute(async () => {
          try {
            const outcome = await this.fetchUnlessUnchanged(url, documents, signal);
            if ('unchanged' in outcome) unchanged.set(url, outcome.unchanged);
            else fetched.set(url, outcome);
          } catch (error) {
            if (!(error instanceof FileRefusedError)) throw error;
            problems.push(`${url}: ${error.message}`);
          }
        }),
      ),
    );
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (problems.length > 0) throw nothingIngested(problems);
    const toIngest = pages.filter((url) => fetched.has(url));
    const report = await documents.ingest(
      toIngest.map((url) => fetched.get(url)?.document as DocumentInput),
      (position) => toIngest[position] ?? '',
    );
    await this.remember(toIngest, fetched, documents);
    const byId = new Map([
      ...report.documents.map((document) => [document.id, document] as const),
      ...unchanged,
    ]);
    const results = pages.map((url) => byId.get(url) as IngestedDocument);
    return {
      documents: results,
      created: report.created,
      updated: report.updated,
      unchanged: report.unchanged + unchanged.size,
      embeddedChunks: report.embeddedChunks,
    };
  }

  private async fetchUnlessUnchanged(
    url: string,
    documents: TenantDocuments,
    signal: AbortSignal | undefined,
  ): Promise<{ unchanged: IngestedDocument } | { document: DocumentInput; validators: PageValidators }> {
    const known = await this.known?.get(keyOf(documents.tenant, url));
    const outcome = await this.fetcher.fetch(url, known, signal);
    let page: FetchedPage;
    if ('page' in outcome) page = outcome.page;
    else {
      const [stored] = await documents.get([url]);
      if (stored && stored.contentHash === known?.contentHash) {
        return { unchanged: { id: url, status: 'UNCHANGED', chunkCount: stored.chunkCount } };
      }
      // The server vouches for a version this tenant no longer has (deleted, or replaced by hand).
      page = await this.fetcher.fetchPage(url, signal);
    }
    return {
      document: await this.files.documentOf(pageAsFile(page, url), url, { tenant: documents.tenant, signal }),
      validators: page.validators,
    };
  }

  /** Keeps the validators of the pages just stored, with the content hash they vouch for. */
  private async remember(
    urls: readonly string[],
    fetched: ReadonlyMap<string, { validators: PageValidators }>,
    documents: TenantDocuments,
  ): Promise<void> {
    const known = this.known;
    const withValidators = urls.filter((url) => {
      const validators = fetched.get(url)?.validators;
      return validators?.etag !== undefined || validators?.lastModified !== undefined;
    });
    if (!known || withValidators.length === 0) return;
    const stored = await documents.get(withValidators);
    await Promise.all(
      withValidators.map((url, position) => {
        const contentHash = stored[position]?.contentHash;
        const validators = fetched.get(url)?.validators;
        return contentHash
          ? known.set(keyOf(documents.tenant, url), { ...validators, contentHash })
          : undefined;
      }),
    );
  }
}

function keyOf(tenant: string, url: string): string {
  return `${tenant}\u0000${url}`;
}

/** The URLs as ids (fragments dropped, since they name a place in the same page), each once. */
function validUrls(urls: readonly string[]): string[] {
  if (urls.length > maxUrlsPerCall) {
    throw badInput(`Too many URLs in one call: ${urls.length}; the limit is ${maxUrlsPerCall}.`);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const valid = urls.map((raw, position) => {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      problems.push(`urls[${position}]: "${raw.slice(0, 100)}" is not a URL`);
      return '';
    }
    url.hash = '';
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`urls[${position}]: ragql fetches http and https URLs only, not ${url.protocol}`);
    } else if (url.href.length > maxIdLength) {
      problems.push(`urls[${position}]: longer than ${maxIdLength} characters, the longest document id`);
    } else if (seen.has(url.href)) {
      problems.push(`urls[${position}]: ${url.href} appears more than once in this call`);
    }
    seen.add(url.href);
    return url.href;
  });
  if (problems.length > 0) throw nothingIngested(problems);
  return valid;
}

/**
 * A crawl of one site into documents: from a start page, the pages its sitemaps list or, without
 * one, those its pages link to, breadth first, on the start page's origin only, as robots.txt
 * allows ragql and at its Crawl-delay, up to a number of pages. Each page is fetched and read as
 * `ingestUrls` reads it; a page that cannot be had is reported and skipped, and the pages found
 * are ingested in one call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import robotsParserModule from 'robots-parser';
import { badInput } from '../errors.ts';
import { type DocumentInput, type IngestReport, maxIdLength } from '../rag/index.ts';
import type { DocumentFiles } from './document-files.ts';
import { type PageFetcher, pageAsFile } from './page-fetcher.ts';
import { FileRefusedError } from './parsed-file.ts';
import type { FileOwner } from './parsing-thread.ts';
import { maxUrlsPerCall, type TenantDocuments } from './url-ingestion.ts';

// The package is CommonJS exporting the function itself; its types declare it as the default
// export of an ES module, which Node's default import of CommonJS (module.exports) is not.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

/** The user agent robots.txt rules are read for. */
const robotsAgent = 'ragql';
/**
 * What is read of robots.txt and of a sitemap: Google reads 500 KiB of robots.txt, and a crawl
 * takes 100 pages at most, which a sitemap lists in far less. Reading no more keeps the scans
 * short on the event loop whatever the site sends.
 */
const mostSiteFileBytes = 512 * 1024;
/** Sitemaps read at most: robots.txt's or /sitemap.xml, and those a sitemap index names. */
const mostSitemaps = 16;
/**
 * The longest robots.txt Crawl-delay honoured between two pages: a crawl of `maxUrlsPerCall`
 * pages then ends within minutes however long a site asks ragql to wait.
 */
const mostCrawlDelayMs = 10_000;
const lenientUtf8 = new TextDecoder('utf-8');

export interface CrawlProgress {
  /** Pages fetched so far, refused ones included. */
  fetched: number;
  /** The most the crawl fetches. */
  maxPages: number;
  url: string;
}

export interface CrawlReport extends IngestReport {
  /** Pages found but not stored, each with why: unreachable, unreadable, or not a type ragql reads. */
  refused: { url: string; reason: string }[];
}

export class SiteCrawler {
  private readonly fetcher: PageFetcher;
  private readonly files: DocumentFiles;

  constructor(options: { fetcher: PageFetcher; files: DocumentFiles }) {
    this.fetcher = options.fetcher;
    this.files = options.files;
  }

  async crawl(
    start: string,
    maxPages: number,
    documents: TenantDocuments,
    options: { onProgress?: (progress: CrawlProgress) => void; signal?: AbortSignal } = {},
  ): Promise<CrawlReport> {
    const origin = startOf(start, maxPages);
    const robots = await this.robotsOf(origin.origin, options.signal);
    const allowed = (url: URL) =>
      url.origin === origin.origin &&
      url.href.length <= maxIdLength &&
      robots.isAllowed(url.href, robotsAgent) !== false;
    const sitemap = await this.sitemapOf(origin.origin, robots.getSitemaps(), {
      keep: (url) => allowed(new URL(url)),
      enough: maxPages,
      signal: options.signal,
    });
    const queue = [origin.href, ...sitemap];
    const delayMs = Math.min((robots.getCrawlDelay(robotsAgent) ?? 0) * 1000, mostCrawlDelayMs);
    const seen = new Set<string>();
    const found: DocumentInput[] = [];
    const refused: CrawlReport['refused'] = [];
    while (queue.length > 0 && seen.size < maxPages) {
      const url = queue.shift() as string;
      if (seen.has(url) || !allowed(new URL(url))) continue;
      // The site's Crawl-delay between two of its pages.
      if (seen.size > 0 && delayMs > 0) await sleep(delayMs, undefined, { signal: options.signal });
      seen.add(url);
      try {
        const { document, links } = await this.read(url, {
          tenant: documents.tenant,
          signal: options.signal,
        });
        found.push(document);
        // With a sitemap, the site says which pages there are; without, its links do.
        if (sitemap.length === 0)
          queue.push(...sameOriginLinks(links, url).filter((link) => !seen.has(link)));
      } catch (error) {
        if (!(error instanceof FileRefusedError)) throw error;
        refused.push({ url, reason: error.message });
      }
      options.onProgress?.({ fetched: seen.size, maxPages, url });
    }
    const report = await documents.ingest(found, (position) => found[position]?.id ?? '');
    return { ...report, refused };
  }

  private async read(url: string, owner: FileOwner) {
    return this.files.read(pageAsFile(await this.fetcher.fetchPage(url, owner.signal), url), url, owner);
  }

  /** The site's robots.txt rules for ragql; a site without one (or that cannot serve it) allows all. */
  private async robotsOf(origin: string, signal: AbortSignal | undefined) {
    const url = `${origin}/robots.txt`;
    return robotsParser(url, await this.textOf(url, signal));
  }

  /**
   * The pages the site's sitemaps (robots.txt's, else /sitemap.xml) list that `keep` keeps, up to
   * `enough`; none without a sitemap. A sitemap index names further sitemaps on the origin.
   */
  private async sitemapOf(
    origin: string,
    listed: readonly string[],
    options: { keep: (url: string) => boolean; enough: number; signal: AbortSignal | undefined },
  ): Promise<string[]> {
    const onOrigin = (url: string) => URL.canParse(url) && new URL(url).origin === origin;
    const sitemaps = listed.filter(onOrigin);
    if (sitemaps.length === 0) sitemaps.push(`${origin}/sitemap.xml`);
    const read = new Set<string>();
    const pages = new Set<string>();
    while (sitemaps.length > 0 && read.size < mostSitemaps && pages.size < options.enough) {
      const url = sitemaps.shift() as string;
      if (read.has(url)) continue;
      read.add(url);
      const xml = await this.textOf(url, options.signal);
      const locations = locationsIn(xml);
      // A sitemap index (sitemaps.org) names sitemaps rather than pages.
      if (/<sitemapindex[\s>]/.test(xml)) sitemaps.push(...locations.filter(onOrigin));
      else for (const page of locations.filter(options.keep)) pages.add(page);
    }
    return [...pages].slice(0, options.enough);
  }

  /** The start of a small text file of the site, empty when it has none or it cannot be read. */
  private async textOf(url: string, signal: AbortSignal | undefined): Promise<string> {
    try {
      const page = await this.fetcher.fetchPage(url, signal);
      return lenientUtf8.decode(page.bytes.subarray(0, mostSiteFileBytes));
    } catch (error) {
      if (error instanceof FileRefusedError) return '';
      throw error;
    }
  }
}

function startOf(start: string, maxPages: number): URL {
  if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > maxUrlsPerCall) {
    throw badInput(`maxPages must be a whole number from 1 to ${maxUrlsPerCall}; got ${maxPages}`);
  }
  if (!URL.canParse(start)) throw badInput(`"${start.slice(0, 100)}" is not a URL`);
  const url = new URL(start);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badInput(`ragql crawls http and https sites only, not ${url.protocol}`);
  }
  url.hash = '';
  return url;
}

/** The links of a page that stay on its origin, absolute and without fragments. */
function sameOriginLinks(links: readonly string[], base: string): string[] {
  const origin = new URL(base).origin;
  return links.flatMap((link) => {
    if (!URL.canParse(link, base)) return [];
    const url = new URL(link, base);
    return url.origin === origin ? [withoutFragment(url)] : [];
  });
}

/** The URLs of a sitemap's <loc> elements, without fragments. */
function locationsIn(xml: string): string[] {
  // <loc> holds a URL, which holds no '<': a plain scan, linear in the sitemap's size.
  return [...xml.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)]
    .map((match) => decodeXmlEntities(match[1] ?? ''))
    .filter((location) => URL.canParse(location))
    .map((location) => withoutFragment(new URL(location)));
}

function withoutFragment(url: URL): string {
  url.hash = '';
  return url.href;
}

const xmlEntities: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => xmlEntities[name] ?? '');
}

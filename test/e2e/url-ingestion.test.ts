/**
 * Pages ingested by URL from a real HTTP server on loopback, which the server under test is told
 * it may fetch from (RAGQL_URL_ALLOW_PRIVATE=127.0.0.1/32): parsed by type, UNCHANGED by ETag
 * without a download, and refused, naming the URL and storing nothing, when the target or a
 * redirect is a private address, the page is missing, too large or too slow.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestUrlsDocument } from '../generated/graphql.ts';
import { docxFile, pdfFile } from '../support/document-files.ts';
import { dataOf } from '../support/graphql-client.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { ragqlCli } from '../support/ragql-process.ts';
import { useRagql } from '../support/use-ragql.ts';

const run = promisify(execFile);

const guide = `<!doctype html><html><head><title>Harbour guide</title></head><body>
  <nav><a href="/">Home</a> <a href="/prices">Prices</a></nav>
  <article><h1>Harbour guide</h1><p>Boats moor at the north quay, where the water stays deep at every tide of the year.</p></article>
  <footer>Harbour office</footer></body></html>`;

/** A site on loopback that counts what it served, by path. */
async function startSite() {
  const pdf = await pdfFile([
    { lines: [{ text: 'Tide table for March.' }] },
    { lines: [{ text: 'Tide table for April.' }] },
  ]);
  const docx = await docxFile([
    { heading: 'Moorings', level: 1 },
    { paragraph: 'Moorings are let by the year.' },
  ]);
  const served = new Map<string, number>();
  const conditional: string[] = [];
  let etag = '"v1"';
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (request.headers['if-none-match']) conditional.push(path);
    if (path === '/guide' && request.headers['if-none-match'] === etag) {
      response.writeHead(304).end();
      return;
    }
    served.set(path, (served.get(path) ?? 0) + 1);
    const routes: Record<string, () => void> = {
      '/guide': () =>
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', etag }).end(guide),
      '/tides.pdf': () => response.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf),
      '/moorings': () =>
        response
          .writeHead(200, {
            'content-type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          })
          .end(docx),
      '/notes.md': () =>
        response.writeHead(200, { 'content-type': 'text/plain' }).end('# Notes\n\nQuay seven is closed.\n'),
      '/moved': () => response.writeHead(301, { location: '/guide' }).end(),
      '/to-metadata': () =>
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      '/to-private': () => response.writeHead(307, { location: 'http://10.1.2.3/admin' }).end(),
      '/loop': () => response.writeHead(302, { location: '/loop' }).end(),
      '/huge': () => response.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(300_000)),
      '/slow': () => response.writeHead(200, { 'content-type': 'text/plain' }).write('starting'),
      '/video': () => response.writeHead(200, { 'content-type': 'video/mp4' }).end(Buffer.alloc(16)),
    };
    (routes[path] ?? (() => response.writeHead(404).end('not here')))();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    served,
    conditional,
    changeGuide: () => {
      etag = '"v2"';
    },
    close: () =>
      new Promise<void>((resolve) => server.closeAllConnections() ?? server.close(() => resolve())),
  };
}

describe('ingestUrls', () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  beforeAll(async () => {
    site = await startSite();
  });
  afterAll(() => site.close());

  const ragql = useRagql({
    RAGQL_URL_ALLOW_PRIVATE: '127.0.0.1/32',
    RAGQL_URL_TIMEOUT_MS: '1500',
    RAGQL_MAX_DOCUMENT_BYTES: '100000',
    RAGQL_MAX_BODY_BYTES: '200000',
  });
  const execute = (urls: string[]) => ragql.execute(IngestUrlsDocument, { urls });
  const storedIds = async () =>
    (await ragql.services.store.forTenant('default').listDocuments({ limit: 100, filter: [] })).map(
      (document) => document.id,
    );

  it('ingests each page by its type, with its URL as id and source', async () => {
    const urls = ['/guide', '/tides.pdf', '/moorings', '/notes.md'].map((path) => site.origin + path);
    const result = dataOf(await execute(urls));
    expect(result.ingestUrls.created).toBe(4);
    expect(result.ingestUrls.documents.map((document) => document.id)).toEqual(urls);
    const store = ragql.services.store.forTenant('default');
    const [page, pdf, word, notes] = await store.getDocuments(urls);
    expect(page).toMatchObject({ title: 'Harbour guide', source: urls[0] });
    expect(pdf?.title).toBe(urls[1]);
    expect(word?.title).toBe('Moorings');
    expect(notes?.title).toBe('Notes');
    expect((await store.getChunks(urls[0] as string)).map((chunk) => chunk.content)).toEqual([
      'Boats moor at the north quay, where the water stays deep at every tide of the year.',
    ]);
    expect((await store.getChunks(urls[1] as string)).map((chunk) => chunk.pages)).toEqual([
      { first: 1, last: 2 },
    ]);
    // Served as text/plain, read as Markdown by its path's extension.
    expect((await store.getChunks(urls[3] as string)).map((chunk) => chunk.sectionPath)).toEqual([['Notes']]);
  });

  it('finds an unchanged page UNCHANGED by its ETag without downloading it, and one without validators by its content', async () => {
    const before = { guide: site.served.get('/guide'), pdf: site.served.get('/tides.pdf') };
    const result = dataOf(await execute([`${site.origin}/guide`, `${site.origin}/tides.pdf`]));
    expect(result.ingestUrls.unchanged).toBe(2);
    expect(result.ingestUrls.documents.map((document) => document.chunkCount)).toEqual([1, 1]);
    expect(site.conditional).toContain('/guide');
    expect(site.served.get('/guide')).toBe(before.guide);
    expect(site.served.get('/tides.pdf')).toBe((before.pdf ?? 0) + 1);
  });

  it('downloads the page again when the stored document is not the one its ETag vouches for', async () => {
    await ragql.services.documents.delete('default', `${site.origin}/guide`);
    const result = dataOf(await execute([`${site.origin}/guide`]));
    expect(result.ingestUrls.created).toBe(1);
  });

  it('follows a redirect, keeping the URL asked for as the id', async () => {
    const result = dataOf(await execute([`${site.origin}/moved`]));
    expect(result.ingestUrls.documents).toEqual([
      { id: `${site.origin}/moved`, status: 'CREATED', chunkCount: 1 },
    ]);
  });

  it('refuses private targets, redirects to them, and pages it cannot have, naming each, and stores nothing of the call', async () => {
    const before = await storedIds();
    const result = await execute([
      `${site.origin}/notes.md`,
      `${site.origin}/to-metadata`,
      `${site.origin}/to-private`,
      'http://10.0.0.7/',
      'http://[::1]:9/',
      `${site.origin}/missing`,
      `${site.origin}/loop`,
      `${site.origin}/huge`,
      `${site.origin}/slow`,
      `${site.origin}/video`,
    ]);
    const problems = (result.errors?.[0]?.extensions?.problems ?? []) as string[];
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(problems.sort()).toEqual(
      [
        'http://10.0.0.7/: it is 10.0.0.7, a private address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it',
        'http://[::1]:9/: it is ::1, a loopback address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it',
        `${site.origin}/huge: it is larger than 200000 bytes, the limit for one file`,
        `${site.origin}/loop: it redirected more than 5 times`,
        `${site.origin}/missing: it answered 404 Not Found`,
        `${site.origin}/slow: it did not answer within 1.5 s, the limit`,
        `${site.origin}/to-metadata: it is 169.254.169.254, a link-local address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it`,
        `${site.origin}/to-private: it is 10.1.2.3, a private address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it`,
        `${site.origin}/video: it is of a type ragql does not read; it reads PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md) and text (.txt, .csv, .tsv, .json)`,
      ].sort(),
    );
    expect(await storedIds()).toEqual(before);
  });

  it('refuses what is not an http or https URL before fetching anything', async () => {
    const result = await execute([
      'file:///etc/passwd',
      'not a url',
      `${site.origin}/guide#top`,
      `${site.origin}/guide`,
    ]);
    expect(result.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      problems: [
        'urls[0]: ragql fetches http and https URLs only, not file:',
        'urls[1]: "not a url" is not a URL',
        `urls[3]: ${site.origin}/guide appears more than once in this call`,
      ],
    });
  });
});

describe('ingestUrls with the default address policy', () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  beforeAll(async () => {
    site = await startSite();
  });
  afterAll(() => site.close());
  const ragql = useRagql();

  it('refuses loopback, by address and by a host name that resolves to it, and fetches nothing', async () => {
    const port = new URL(site.origin).port;
    const result = await ragql.execute(IngestUrlsDocument, {
      urls: [`${site.origin}/guide`, `http://localhost:${port}/guide`],
    });
    const problems = (result.errors?.[0]?.extensions?.problems ?? []) as string[];
    expect(problems[0]).toBe(
      `${site.origin}/guide: it is 127.0.0.1, a loopback address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it`,
    );
    expect(problems[1]).toMatch(
      new RegExp(`^http://localhost:${port}/guide: it resolves to (127\\.0\\.0\\.1|::1), a loopback address`),
    );
    expect(site.served.size).toBe(0);
  });
});

describe('ragql ingest with URLs', () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  const workspace = temporaryDataDir();
  beforeAll(async () => {
    site = await startSite();
  });
  afterAll(async () => {
    await site.close();
    workspace.remove();
  });

  it('ingests the pages it may fetch and refuses the others by URL', async () => {
    const outcome = await run(
      process.execPath,
      [ragqlCli, 'ingest', `${site.origin}/guide`, `${site.origin}/to-metadata`],
      {
        env: {
          ...process.env,
          RAGQL_DATA_DIR: join(workspace.path, 'data'),
          LOG_LEVEL: 'silent',
          RAGQL_URL_ALLOW_PRIVATE: '127.0.0.1/32',
        },
      },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect('code' in outcome ? outcome.code : 0).toBe(1);
    expect(outcome.stdout).toContain(
      'Ingested 1 file: 1 created, 0 updated, 0 unchanged. Refused 1 that could not be read.',
    );
    expect(outcome.stderr).toContain(
      `ragql ingest: refused ${site.origin}/to-metadata: it is 169.254.169.254, a link-local address, which ragql does not fetch unless RAGQL_URL_ALLOW_PRIVATE allows it.\n`,
    );
  });
});

/**
 * A small site on loopback: pages that link to each other, robots.txt (with a Crawl-delay when
 * asked), and a sitemap when asked, or a sitemap index naming two sitemaps.
 */
async function startLinkedSite(options: { sitemap: false | 'urlset' | 'index'; crawlDelaySeconds?: number }) {
  const requested: string[] = [];
  const requestedAt: number[] = [];
  const page = (title: string, body: string) =>
    `<!doctype html><html><head><title>${title}</title></head><body><nav><a href="/">Home</a></nav><article><p>${body}</p></article></body></html>`;
  let origin = '';
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    requested.push(path);
    requestedAt.push(performance.now());
    const html = (title: string, body: string) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end(page(title, body));
    const routes: Record<string, () => void> = {
      '/robots.txt': () =>
        response
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(
            [
              'User-agent: *',
              'Disallow: /private',
              ...(options.crawlDelaySeconds === undefined
                ? []
                : [`Crawl-delay: ${options.crawlDelaySeconds}`]),
              ...(options.sitemap
                ? [`Sitemap: ${origin}/${options.sitemap === 'index' ? 'index' : 'map'}.xml`]
                : []),
            ].join('\n'),
          ),
      '/index.xml': () =>
        response
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(
            `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${origin}/map.xml</loc></sitemap><sitemap><loc>http://example.com/map.xml</loc></sitemap><sitemap><loc>${origin}/more-map.xml</loc></sitemap></sitemapindex>`,
          ),
      '/more-map.xml': () =>
        response
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(
            `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${origin}/tides</loc></url></urlset>`,
          ),
      '/map.xml': () =>
        response
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(
            `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${origin}/listed</loc></url><url><loc>${origin}/private/listed</loc></url></urlset>`,
          ),
      '/': () =>
        html(
          'Harbour',
          'The harbour has three quays. <a href="/quays">Quays</a> <a href="/private/keys">Keys</a> <a href="http://example.com/">Elsewhere</a> <a href="/gone">Gone</a>',
        ),
      '/quays': () =>
        html('Quays', 'The north quay is deep. <a href="/quays#north">North</a> <a href="/tides">Tides</a>'),
      '/tides': () => html('Tides', 'Tides turn twice a day. <a href="/more">More</a>'),
      '/more': () => html('More', 'More about the harbour.'),
      '/listed': () => html('Listed', 'A page the sitemap names.'),
      '/private/keys': () => html('Keys', 'The key safe code.'),
    };
    (routes[path.split('#')[0] ?? path] ?? (() => response.writeHead(404).end('not here')))();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requested,
    /** When each request arrived (performance.now()), in the order of `requested`. */
    requestedAt,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const crawlSite = `mutation ($url: String!, $maxPages: Int) {
  crawlSite(url: $url, maxPages: $maxPages) { ingested { created documents { id } } refused { url reason } }
}`;

describe('crawlSite', () => {
  const ragql = useRagql({ RAGQL_URL_ALLOW_PRIVATE: '127.0.0.1/32' });
  const crawl = async (url: string, maxPages: number) => {
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: crawlSite, variables: { url, maxPages } }),
    });
    return (await response.json()) as {
      data?: {
        crawlSite: {
          ingested: { created: number; documents: { id: string }[] };
          refused: { url: string; reason: string }[];
        };
      };
      errors?: { message: string }[];
    };
  };

  it('follows links breadth first on the origin only, as robots.txt allows, up to maxPages', async () => {
    const site = await startLinkedSite({ sitemap: false });
    try {
      const result = (await crawl(`${site.origin}/`, 4)).data?.crawlSite;
      expect(result?.ingested.documents.map((document) => document.id)).toEqual([
        `${site.origin}/`,
        `${site.origin}/quays`,
        `${site.origin}/tides`,
      ]);
      // The fourth page found was a dead link: refused, and counted against maxPages.
      expect(result?.refused).toEqual([{ url: `${site.origin}/gone`, reason: 'it answered 404 Not Found' }]);
      expect(site.requested).not.toContain('/private/keys');
      expect(site.requested).not.toContain('/more');
      expect(site.requested.filter((path) => path === '/quays')).toHaveLength(1);
    } finally {
      await site.close();
    }
  });

  it("takes the sitemap's pages when the site has one, robots.txt still deciding", async () => {
    const site = await startLinkedSite({ sitemap: 'urlset' });
    try {
      const result = (await crawl(`${site.origin}/`, 10)).data?.crawlSite;
      expect(result?.ingested.documents.map((document) => document.id)).toEqual([
        `${site.origin}/`,
        `${site.origin}/listed`,
      ]);
      expect(site.requested).not.toContain('/private/listed');
      expect(site.requested).not.toContain('/quays');
    } finally {
      await site.close();
    }
  });

  it('reads the sitemaps a sitemap index names, on the origin only', async () => {
    const site = await startLinkedSite({ sitemap: 'index' });
    try {
      const result = (await crawl(`${site.origin}/`, 10)).data?.crawlSite;
      expect(result?.ingested.documents.map((document) => document.id)).toEqual([
        `${site.origin}/`,
        `${site.origin}/listed`,
        `${site.origin}/tides`,
      ]);
      expect(site.requested).not.toContain('/private/listed');
    } finally {
      await site.close();
    }
  });

  it("waits robots.txt's Crawl-delay between two pages", async () => {
    const site = await startLinkedSite({ sitemap: false, crawlDelaySeconds: 0.3 });
    try {
      const result = (await crawl(`${site.origin}/`, 3)).data?.crawlSite;
      // The home page, /quays, and /gone (which answers 404).
      expect(result?.ingested.created).toBe(2);
      const pageTimes = site.requestedAt.filter(
        (_, position) =>
          !site.requested[position]?.endsWith('.txt') && !site.requested[position]?.endsWith('.xml'),
      );
      expect(pageTimes).toHaveLength(3);
      for (let position = 1; position < pageTimes.length; position++) {
        // Less a millisecond for the timers' rounding.
        expect((pageTimes[position] ?? 0) - (pageTimes[position - 1] ?? 0)).toBeGreaterThanOrEqual(299);
      }
    } finally {
      await site.close();
    }
  });

  it('crawls from the command line with --crawl, a page count per site', async () => {
    const site = await startLinkedSite({ sitemap: false });
    const workspace = temporaryDataDir();
    try {
      const outcome = await run(process.execPath, [ragqlCli, 'ingest', '--crawl', '3', `${site.origin}/`], {
        env: {
          ...process.env,
          RAGQL_DATA_DIR: join(workspace.path, 'data'),
          LOG_LEVEL: 'silent',
          RAGQL_URL_ALLOW_PRIVATE: '127.0.0.1/32',
        },
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);
      expect('code' in outcome ? outcome.code : 0).toBe(1);
      expect(outcome.stdout).toContain(
        'Ingested 2 files: 2 created, 0 updated, 0 unchanged. Refused 1 that could not be read.',
      );
      expect(outcome.stderr).toContain(
        `ragql ingest: refused ${site.origin}/gone: it answered 404 Not Found.\n`,
      );
    } finally {
      await site.close();
      workspace.remove();
    }
  });

  it('refuses a maxPages out of range, and what is not an http or https URL', async () => {
    expect((await crawl('http://127.0.0.1:9/', 101)).errors?.[0]?.message).toBe(
      'maxPages must be a whole number from 1 to 100; got 101',
    );
    expect((await crawl('ftp://127.0.0.1/', 5)).errors?.[0]?.message).toBe(
      'ragql crawls http and https sites only, not ftp:',
    );
  });
});

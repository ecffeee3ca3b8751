/**
 * Files of every format ragql reads, made by the libraries that write them, parsed on the real
 * parsing thread: the exact text each gives, where its pages and sections begin, and the refusal
 * of files that cannot be read, by a time or memory limit too.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DocumentFiles, type NamedFile } from '../../src/files/document-files.ts';
import { FileRefusedError, type ParsedFile } from '../../src/files/parsed-file.ts';
import { defaultParsingLimits, ParsingThread } from '../../src/files/parsing-thread.ts';
import { docxFile, pdfBomb, pdfFile, pdfWithoutText } from '../support/document-files.ts';

const text = (value: string) => new TextEncoder().encode(value);
const tenant = 'acme';

describe('parsing files on the parsing thread', () => {
  const thread = new ParsingThread();
  const files = new DocumentFiles({ parser: thread, maxFileBytes: 1024 * 1024, maxFilesPerUpload: 10 });
  afterAll(() => files.close());

  const documentOf = (file: NamedFile) => files.documentOf(file, file.name, { tenant });
  const refusalOf = async (file: NamedFile) => {
    const error = await documentOf(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileRefusedError);
    return (error as Error).message;
  };

  it("reads a PDF's text layer page by page: lines, paragraphs, a table's rows together, the title from its metadata", async () => {
    const bytes = await pdfFile(
      [
        {
          lines: [
            { text: 'Widget handbook', size: 18 },
            { text: 'Widgets are small parts that', gapBefore: 3 },
            { text: 'fit in one hand.' },
            { text: 'Each widget has a weight.', gapBefore: 3 },
            { cells: ['Name', 'Weight', 'Colour'] },
            { cells: ['Alpha', '3 kg', 'red'] },
            { cells: ['Beta', '5 kg', 'blue'] },
          ],
        },
        { lines: [] },
        { lines: [{ text: 'Widgets are stored dry.' }] },
      ],
      'The widget handbook',
    );
    const document = await documentOf({ name: 'handbook.pdf', bytes });
    const content = [
      'Widget handbook',
      'Widgets are small parts that\nfit in one hand.',
      'Each widget has a weight.\nName Weight Colour\nAlpha 3 kg red\nBeta 5 kg blue',
      'Widgets are stored dry.',
    ].join('\n\n');
    expect(document).toEqual({
      id: 'handbook.pdf',
      title: 'The widget handbook',
      source: 'handbook.pdf',
      content,
      // The empty second page begins and ends where the first one's text does.
      layout: {
        pageStarts: [0, content.indexOf('\n\nWidgets are stored'), content.indexOf('Widgets are stored')],
      },
    });
  });

  it('refuses a PDF without a text layer, a damaged PDF, and a file that only claims to be one', async () => {
    expect(await refusalOf({ name: 'scan.pdf', bytes: await pdfWithoutText() })).toBe(
      'it has no text layer (a scanned PDF?); ragql does not read text in images',
    );
    const pdf = await pdfFile([{ lines: [{ text: 'Cut short.' }] }]);
    expect(await refusalOf({ name: 'cut.pdf', bytes: pdf.slice(0, 200) })).toBe(
      'it is not a PDF that can be read',
    );
    expect(await refusalOf({ name: 'notes.pdf', bytes: text('plain notes, not a PDF') })).toBe(
      'its name or type says a PDF, but its content is not',
    );
  });

  it("reads a Word document's headings as sections and its table as rows of cells", async () => {
    const bytes = await docxFile([
      { heading: 'Tide tables', level: 1 },
      { paragraph: 'Tides rise and fall twice a day.' },
      { heading: 'Spring tides', level: 2 },
      { paragraph: 'They follow a new or full moon.' },
      {
        rows: [
          ['Tide', 'Range'],
          ['Spring', 'Large'],
          ['Neap', 'Small'],
        ],
      },
      { heading: 'Neap tides', level: 2 },
      { paragraph: 'They follow a half moon.' },
    ]);
    const document = await documentOf({ name: 'tides.docx', bytes });
    const content = [
      'Tide tables',
      'Tides rise and fall twice a day.',
      'Spring tides',
      'They follow a new or full moon.',
      'Tide | Range\nSpring | Large\nNeap | Small',
      'Neap tides',
      'They follow a half moon.',
    ].join('\n\n');
    expect(document).toMatchObject({ title: 'Tide tables', content });
    expect(document.layout).toEqual({
      sections: [
        { start: 0, path: ['Tide tables'] },
        { start: content.indexOf('Spring tides'), path: ['Tide tables', 'Spring tides'] },
        { start: content.indexOf('Neap tides'), path: ['Tide tables', 'Neap tides'] },
      ],
    });
  });

  it("reads an HTML page's main content: no navigation, header, footer or sidebar", async () => {
    const article = [
      'Tides are the rise and fall of sea levels, caused by the pull of the moon and the sun on the',
      'rotating earth. Sailors have read them from tables for centuries, and harbours still publish',
      'them every year.',
    ].join(' ');
    const spring = [
      'Spring tides come when the sun and the moon are in line, at new and full moon, and bring the',
      'highest high waters and the lowest low waters of the month.',
    ].join(' ');
    const page = `<!doctype html><html><head><title>Tides · Sea guide</title><style>p { color: navy }</style></head>
      <body>
        <header><a href="/">Sea guide</a> <a href="/shop">Shop</a></header>
        <nav><ul><li><a href="/tides">Tides</a></li><li><a href="/waves">Waves</a></li></ul></nav>
        <main><article>
          <h1>Tides</h1>
          <p>${article}</p>
          <h2>Spring tides</h2>
          <p>${spring}</p>
          <table><tr><th>Tide</th><th>Range</th></tr><tr><td>Spring</td><td>Large</td></tr></table>
        </article></main>
        <aside>Related: <a href="/waves">Waves</a></aside>
        <footer>© 2026 Sea guide · Privacy · Cookies</footer>
        <script>track()</script>
      </body></html>`;
    const document = await documentOf({ name: 'tides.html', bytes: text(page) });
    const content = [article, 'Spring tides', spring, 'Tide | Range\nSpring | Large'].join('\n\n');
    expect(document).toMatchObject({ title: 'Tides · Sea guide', content });
    expect(document.layout).toEqual({
      sections: [{ start: content.indexOf('Spring tides'), path: ['Spring tides'] }],
    });
  });

  it('refuses a page nested deeper than browsers build, before Readability scores it', async () => {
    const nested = `<html><body>${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}</body></html>`;
    expect(await refusalOf({ name: 'nested.html', bytes: text(nested) })).toBe(
      'it nests elements 5002 deep; ragql reads pages nested at most 512 deep, as browsers build them',
    );
    const shallow = `<html><body>${'<div>'.repeat(500)}<p>Not too deep.</p>${'</div>'.repeat(500)}</body></html>`;
    expect(await documentOf({ name: 'shallow.html', bytes: text(shallow) })).toMatchObject({
      content: 'Not too deep.',
    });
  });

  it('keeps Markdown as written, its headings (not a # in a code block) as sections, the first # heading as the title', async () => {
    const markdown = [
      '# Install',
      'Run the installer.',
      '```sh\n# not a heading: a shell comment\nnpm install\n```',
      '## On *Linux*',
      'Use the package.',
      '### Débian',
      'Use apt.',
      '## On macOS',
      'Use brew.',
      '# Usage',
      'Run it.',
    ].join('\n\n');
    const document = await documentOf({ name: 'guide.md', bytes: text(markdown) });
    expect(document).toMatchObject({ title: 'Install', content: markdown });
    const sectionAt = (heading: string, path: string[]) => ({ start: markdown.indexOf(heading), path });
    expect(document.layout).toEqual({
      sections: [
        sectionAt('# Install', ['Install']),
        sectionAt('## On *Linux*', ['Install', 'On Linux']),
        sectionAt('### Débian', ['Install', 'On Linux', 'Débian']),
        sectionAt('## On macOS', ['Install', 'On macOS']),
        sectionAt('# Usage', ['Usage']),
      ],
    });
  });

  it('reads text, CSV and JSON as text, by name or else by media type', async () => {
    const csv = 'name,weight\nAlpha,3\nBeta,5\n';
    expect(await documentOf({ name: 'widgets.csv', bytes: text(csv) })).toEqual({
      id: 'widgets.csv',
      title: 'widgets.csv',
      source: 'widgets.csv',
      content: csv,
      layout: undefined,
    });
    expect(
      await documentOf({ name: 'export', type: 'application/json; charset=utf-8', bytes: text('{"a":1}') }),
    ).toMatchObject({ content: '{"a":1}' });
    expect(
      await documentOf({ name: 'page', type: 'text/html', bytes: text('<p>Hello there.</p>') }),
    ).toMatchObject({
      content: 'Hello there.',
    });
  });

  it('refuses a file of a type ragql does not read, text that is not UTF-8, and a file over the size limit', async () => {
    expect(
      await refusalOf({ name: 'photo.png', type: 'image/png', bytes: new Uint8Array([0x89, 0x50]) }),
    ).toBe(
      'it is of a type ragql does not read; it reads PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md) and text (.txt, .csv, .tsv, .json)',
    );
    expect(await refusalOf({ name: 'latin1.txt', bytes: Buffer.from('Caf\xe9', 'latin1') })).toBe(
      'it is not UTF-8 text',
    );
    expect(await refusalOf({ name: 'big.txt', bytes: new Uint8Array(1024 * 1024 + 1).fill(65) })).toBe(
      'it is 1048577 bytes; the limit is 1048576',
    );
    expect(await refusalOf({ name: 'broken.docx', bytes: text('PK\u0003\u0004 not really a zip') })).toMatch(
      /^it is not a Word document that can be read/,
    );
  });
});

describe('the parsing limits', () => {
  /** A PDF of many pages, so that reading it takes the thread well past a millisecond. */
  const longPdf = () =>
    pdfFile(
      Array.from({ length: 400 }, (_, page) => ({ lines: [{ text: `Page ${page + 1} of a long report.` }] })),
    );

  it('refuses a file that takes longer than the time limit; the same file parses within a longer one', async () => {
    const thread = new ParsingThread({ ...defaultParsingLimits, timeoutMs: 1 });
    try {
      await expect(thread.parse('pdf', await longPdf(), { tenant })).rejects.toThrow(
        new FileRefusedError('parsing it took longer than 0.001 s, the limit'),
      );
    } finally {
      await thread.close();
    }
    const patient = new ParsingThread({ ...defaultParsingLimits, timeoutMs: 60_000 });
    try {
      const parsed: ParsedFile = await patient.parse('pdf', await longPdf(), { tenant });
      expect(parsed.layout?.pageStarts).toHaveLength(400);
    } finally {
      await patient.close();
    }
  });

  it('refuses a file whose parsing needs more memory than the limit, and the process lives on', async () => {
    const thread = new ParsingThread({ ...defaultParsingLimits, timeoutMs: 60_000, maxHeapMb: 4 });
    try {
      await expect(thread.parse('pdf', await longPdf(), { tenant })).rejects.toThrow(
        new FileRefusedError('parsing it needed more than the 4 MB of memory allowed'),
      );
      // The thread that died is replaced, and refuses the next file the same way.
      await expect(thread.parse('text', text('still here'), { tenant })).rejects.toThrow(
        new FileRefusedError('parsing it needed more than the 4 MB of memory allowed'),
      );
    } finally {
      await thread.close();
    }
  });

  it('takes the tenants in turns: one with many files waiting keeps another waiting for one of them at most', async () => {
    const thread = new ParsingThread();
    try {
      const finished: string[] = [];
      const parseFor = (owner: string, name: string) =>
        thread.parse('text', text(name), { tenant: owner }).then(() => void finished.push(name));
      // Four of acme's files are asked for first, the thread starting on the first; then globex's one.
      const parsing = ['acme-1', 'acme-2', 'acme-3', 'acme-4'].map((name) => parseFor('acme', name));
      parsing.push(parseFor('globex', 'globex-1'));
      await Promise.all(parsing);
      expect(finished).toEqual(['acme-1', 'globex-1', 'acme-2', 'acme-3', 'acme-4']);
    } finally {
      await thread.close();
    }
  });

  it('lets a file whose owner has gone leave the queue at once, and serves the rest in turn', async () => {
    const thread = new ParsingThread();
    try {
      const settled: string[] = [];
      const leaving = new AbortController();
      const first = thread
        .parse('text', text('acme-1'), { tenant: 'acme' })
        .then(() => void settled.push('acme-1'));
      const gone = thread
        .parse('text', text('globex-1'), { tenant: 'globex', signal: leaving.signal })
        .catch((error: unknown) => void settled.push(`globex-1 ${(error as Error).name}`));
      const next = thread
        .parse('text', text('acme-2'), { tenant: 'acme' })
        .then(() => void settled.push('acme-2'));
      leaving.abort();
      await Promise.all([first, gone, next]);
      // It left before the file ahead of it was done, and the queue went on without it.
      expect(settled).toEqual(['globex-1 AbortError', 'acme-1', 'acme-2']);
    } finally {
      await thread.close();
    }
  });

  it('refuses a decompression bomb by the memory it inflates to outside the heap, and parses the next file', async () => {
    const bomb = await pdfBomb(512);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    // A heap far larger than the file's text: the bomb's buffers are what must stop it.
    const thread = new ParsingThread({ timeoutMs: 60_000, maxHeapMb: 1024, maxBuffersMb: 64 });
    try {
      await expect(thread.parse('pdf', bomb, { tenant })).rejects.toThrow(
        new FileRefusedError(
          'parsing it needed more than the 64 MB of memory outside the heap allowed (decompressed data)',
        ),
      );
      expect((await thread.parse('text', text('still here'), { tenant })).content).toBe('still here');
    } finally {
      await thread.close();
    }
  });
});

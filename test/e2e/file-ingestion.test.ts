/**
 * Files as people have them (PDF, Word, HTML pages, Markdown, CSV) ingested by `ragql ingest` and
 * by a GraphQL upload, made by the libraries that write them: each chunk knows its pages and
 * section, a citation names the page its text is on, and a file that cannot be read is refused by
 * name with nothing of it stored (the rest of a CLI run goes on; an upload stores nothing).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { createServices } from '../../src/composition/services.ts';
import type { NamedFile } from '../../src/files/document-files.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AnswerDocument, DocumentDocument, IngestDocumentsDocument } from '../generated/graphql.ts';
import { docxFile, pdfFile } from '../support/document-files.ts';
import { uploadFiles } from '../support/multipart-upload.ts';
import { startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { ragqlCli } from '../support/ragql-process.ts';
import { rawRequest } from '../support/raw-http.ts';
import { useRagql } from '../support/use-ragql.ts';

const run = promisify(execFile);
const text = (value: string) => new TextEncoder().encode(value);

/** Small chunks without overlap, so each page and section of these short files is a chunk of its own. */
const chunking = { RAGQL_CHUNK_SIZE: '20', RAGQL_CHUNK_OVERLAP: '0' };

const pageOne = 'Tide pools form where the sea leaves water behind in the rocks at low tide.';
const pageTwo = 'Barnacles cling to the rocks of the pool and filter food from the water.';

/** A folder's worth of files, one of each format ragql reads. */
async function mixedFiles(): Promise<NamedFile[]> {
  return [
    {
      name: 'pools.pdf',
      bytes: await pdfFile([{ lines: [{ text: pageOne }] }, { lines: [{ text: pageTwo }] }], 'Tide pools'),
    },
    {
      name: 'tides.docx',
      bytes: await docxFile([
        { heading: 'Tides', level: 1 },
        { paragraph: 'The moon pulls the sea into two bulges that the earth turns through.' },
        { heading: 'Spring tides', level: 2 },
        { paragraph: 'When sun and moon align, the bulges grow and the range is largest.' },
      ]),
    },
    {
      name: 'waves.html',
      bytes: text(
        `<html><head><title>Waves</title></head><body><nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
         <article><p>Waves are made by wind blowing over the surface of open water for a long time.</p></article>
         <footer>Copyright Sea guide</footer></body></html>`,
      ),
    },
    {
      name: 'currents.md',
      bytes: text(
        '# Currents\n\nCurrents move water around the globe.\n\n## Gulf Stream\n\nThe Gulf Stream warms Europe.\n',
      ),
    },
    { name: 'depths.csv', bytes: text('sea,depth\nNorth Sea,95\nBaltic Sea,55\n') },
  ];
}

describe('ragql ingest with files of every format', () => {
  const workspace = temporaryDataDir();
  const dataDir = join(workspace.path, 'data');
  afterAll(() => workspace.remove());

  const ingest = (paths: string[]) =>
    run(process.execPath, [ragqlCli, 'ingest', ...paths], {
      env: { ...process.env, RAGQL_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...chunking },
      cwd: workspace.path,
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);

  it('ingests a mixed folder, refuses each unreadable file by name, and finds it all unchanged the second time', async () => {
    const docs = join(workspace.path, 'docs');
    mkdirSync(docs, { recursive: true });
    for (const file of await mixedFiles()) writeFileSync(join(docs, file.name), file.bytes);
    // Files with the extensions ragql reads whose content gives them away.
    writeFileSync(join(docs, 'scan.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    writeFileSync(join(docs, 'notes.html'), gzipSync('<p>Compressed notes.</p>'));
    writeFileSync(join(docs, 'latin1.txt'), Buffer.from('Caf\xe9 au lait.\n', 'latin1'));
    writeFileSync(join(docs, 'fake.pdf'), 'just text, named as a PDF');
    writeFileSync(join(docs, 'fake.docx'), 'just text, named as a Word file');
    // Not a format ragql reads: skipped when found in a folder, refused when named.
    writeFileSync(join(docs, 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const named = join(workspace.path, 'archive.zip');
    writeFileSync(named, Buffer.from('PK\u0003\u0004'));

    const first = await ingest([docs, named]);
    expect('code' in first ? first.code : 0).toBe(1);
    expect(first.stdout).toContain(
      'Ingested 5 files: 5 created, 0 updated, 0 unchanged. Refused 6 that could not be read.',
    );
    for (const [file, reason] of [
      [
        'archive.zip',
        'it is of a type ragql does not read; it reads PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md) and text (.txt, .csv, .tsv, .json)',
      ],
      ['docs/fake.docx', 'its name or type says a Word document, but its content is not'],
      ['docs/fake.pdf', 'its name or type says a PDF, but its content is not'],
      ['docs/latin1.txt', 'it is not UTF-8 text'],
      ['docs/notes.html', 'it holds binary data, not text'],
      ['docs/scan.md', 'it holds binary data, not text'],
    ]) {
      expect(first.stderr).toContain(`ragql ingest: refused ${file}: ${reason}.\n`);
    }

    const services = await createServices(loadConfig({ RAGQL_DATA_DIR: dataDir }), createLogger('silent'));
    try {
      const store = services.store.forTenant('default');
      const stored = await store.listDocuments({ limit: 100, filter: [] });
      expect(stored.map((document) => [document.id, document.title])).toEqual([
        ['docs/currents.md', 'Currents'],
        ['docs/depths.csv', 'depths.csv'],
        ['docs/pools.pdf', 'Tide pools'],
        ['docs/tides.docx', 'Tides'],
        ['docs/waves.html', 'Waves'],
      ]);
      const place = (chunk: { content: string; pages: unknown; sectionPath: readonly string[] }) => [
        chunk.content,
        chunk.pages,
        chunk.sectionPath,
      ];
      expect((await store.getChunks('docs/pools.pdf')).map(place)).toEqual([
        [pageOne, { first: 1, last: 1 }, []],
        [pageTwo, { first: 2, last: 2 }, []],
      ]);
      expect((await store.getChunks('docs/currents.md')).map(place)).toEqual([
        ['# Currents\n\nCurrents move water around the globe.', null, ['Currents']],
        ['## Gulf Stream\n\nThe Gulf Stream warms Europe.', null, ['Currents', 'Gulf Stream']],
      ]);
    } finally {
      await services.close();
    }

    const second = await ingest([docs]);
    expect(second.stdout).toContain(
      'Ingested 5 files: 0 created, 0 updated, 5 unchanged. Refused 5 that could not be read.',
    );
  });
});

const ingestFiles =
  'mutation ($files: [File!]!) { ingestFiles(files: $files) { created unchanged documents { id status } } }';

describe('ingestFiles: a GraphQL multipart upload', () => {
  const ragql = useRagql({ ...chunking, RAGQL_MAX_BODY_BYTES: String(6 * 1024 * 1024) });
  const upload = async (files: NamedFile[], headers?: Record<string, string>) => {
    const response = await uploadFiles(ragql.server.graphqlUrl, ingestFiles, files, headers);
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions: Record<string, unknown> }[];
      },
    };
  };
  const storedIds = async () =>
    (await ragql.services.store.forTenant('default').listDocuments({ limit: 100, filter: [] })).map(
      (document) => document.id,
    );

  beforeAll(async () => {
    const { status, body } = await upload(await mixedFiles());
    expect(status).toBe(200);
    expect(body).toMatchObject({ data: { ingestFiles: { created: 5, unchanged: 0 } } });
  });

  it('stores each file under its name, every chunk with its pages or its section path', async () => {
    expect(await storedIds()).toEqual(['currents.md', 'depths.csv', 'pools.pdf', 'tides.docx', 'waves.html']);
    const result = await ragql.execute(DocumentDocument, { id: 'tides.docx' });
    expect(result.data?.document).toMatchObject({ title: 'Tides', source: 'tides.docx' });
    expect(
      result.data?.document?.chunks.map((chunk) => [chunk.content, chunk.pages, chunk.sectionPath]),
    ).toEqual([
      ['Tides\n\nThe moon pulls the sea into two bulges that the earth turns through.', null, ['Tides']],
      [
        'Spring tides\n\nWhen sun and moon align, the bulges grow and the range is largest.',
        null,
        ['Tides', 'Spring tides'],
      ],
    ]);
    const waves = await ragql.execute(DocumentDocument, { id: 'waves.html' });
    expect(waves.data?.document?.chunks.map((chunk) => chunk.content)).toEqual([
      'Waves are made by wind blowing over the surface of open water for a long time.',
    ]);
  });

  it('answers with a citation that names the page its source is on', async () => {
    const result = await ragql.execute(AnswerDocument, { question: 'What do barnacles cling to?', limit: 1 });
    expect(result.errors).toBeUndefined();
    expect(result.data?.answer.citations).toEqual([
      {
        marker: 1,
        chunk: { id: 'pools.pdf#1', pages: { first: 2, last: 2 }, sectionPath: [] },
        document: { id: 'pools.pdf', title: 'Tide pools' },
      },
    ]);
  });

  it('finds the same files unchanged when they are uploaded again', async () => {
    const { body } = await upload(await mixedFiles());
    expect(body.data).toMatchObject({ ingestFiles: { created: 0, unchanged: 5 } });
  });

  it('refuses an upload holding a file it cannot read, naming each such file, and stores nothing of it', async () => {
    const { body } = await upload([
      { name: 'fresh.md', bytes: text('# Fresh\n\nA file that could be stored.\n') },
      { name: 'broken.pdf', bytes: (await pdfFile([{ lines: [{ text: 'Cut short.' }] }])).slice(0, 300) },
      { name: 'movie.mp4', type: 'video/mp4', bytes: new Uint8Array([0, 0, 0, 24]) },
    ]);
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      problems: [
        'broken.pdf: it is not a PDF that can be read',
        'movie.mp4: it is of a type ragql does not read; it reads PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md) and text (.txt, .csv, .tsv, .json)',
      ],
    });
    expect(await storedIds()).not.toContain('fresh.md');
  });

  it('refuses one file part sent as many files, before reading it more than once', async () => {
    const body = new FormData();
    body.append('operations', JSON.stringify({ query: ingestFiles, variables: { files: [null, null] } }));
    body.append('map', JSON.stringify({ 0: ['variables.files.0', 'variables.files.1'] }));
    body.append('0', new File(['# Twice\n\nThe same part.\n'], 'twice.md'));
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'x-graphql-yoga-csrf': '1' },
      body,
    });
    const result = (await response.json()) as { errors?: { extensions: Record<string, unknown> }[] };
    expect(result.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      problems: ['twice.md: sent more than once in this upload'],
    });
    expect(await storedIds()).not.toContain('twice.md');
  });

  it('names the file whose text is over the document limit', async () => {
    const { body } = await upload([
      { name: 'huge.txt', bytes: new Uint8Array(5 * 1024 * 1024 + 1).fill(0x61) },
    ]);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      problems: ['huge.txt: content is 5242881 bytes; the limit is 5242880'],
    });
  });

  it('refuses an upload larger than a request body may be (413), before reading it', async () => {
    const { status } = await upload([
      { name: 'too-big.txt', bytes: new Uint8Array(6 * 1024 * 1024).fill(0x61) },
    ]);
    expect(status).toBe(413);
  });

  it('refuses a multipart upload without a header that a cross-site form cannot send (415)', async () => {
    const { status, body } = await upload([{ name: 'forged.md', bytes: text('# Forged\n\nPlanted.\n') }], {});
    expect(status).toBe(415);
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_REQUEST' });
    const withOrigin = await rawRequest(
      ragql.server.port,
      'POST',
      '/graphql',
      { origin: 'https://evil.example', 'content-type': 'multipart/form-data; boundary=b' },
      '--b--\r\n',
    );
    expect(withOrigin.status).toBe(415);
    expect(await storedIds()).not.toContain('forged.md');
  });
});

describe('ingestDocuments with binary content', () => {
  it('refuses a document holding a NUL character, and stores nothing of the call', async () => {
    const dataDir = temporaryDataDir();
    const ragql = await startRagql(dataDir.path);
    try {
      const pdf = await pdfFile([{ lines: [{ text: 'Tides follow the moon.' }] }]);
      const result = await ragql.execute(IngestDocumentsDocument, {
        documents: [
          { id: 'text', content: 'Tides are caused by the moon.' },
          { id: 'pdf', content: Buffer.from(pdf).toString('latin1') },
        ],
      });
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        problems: ['documents[1]: content holds a NUL character: binary data, not text'],
      });
      expect(
        await ragql.services.store.forTenant('default').listDocuments({ limit: 10, filter: [] }),
      ).toEqual([]);
    } finally {
      await ragql.stop();
      dataDir.remove();
    }
  });
});

/**
 * `ragql ingest` given files that are not text (a PDF, a PNG, a gzip archive, Latin-1 text):
 * each is refused by name and nothing of it is stored, while the text files of the same run are
 * ingested; the exit status says that not everything was.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { createServices } from '../../src/composition/services.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { IngestDocumentsDocument } from '../generated/graphql.ts';
import { startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { ragqlCli } from '../support/ragql-process.ts';

const run = promisify(execFile);

/** A one-page PDF whose content stream is compressed, as PDF writers make them. */
function pdfFile(): Buffer {
  const stream = deflateSync(Buffer.from('BT /F1 24 Tf 72 720 Td (Tides follow the moon.) Tj ET'));
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n', 'latin1'),
    Buffer.from(`4 0 obj << /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
    stream,
    Buffer.from('\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

/** A 2x2 PNG: signature, IHDR, IDAT, IEND (CRCs left zero; no reader checks them here). */
function pngFile(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0);
  header.writeUInt32BE(2, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const pixels = deflateSync(Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255, 255]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('ragql ingest with files that are not text', () => {
  const workspace = temporaryDataDir();
  const dataDir = join(workspace.path, 'data');
  afterAll(() => workspace.remove());

  it('refuses each by name, stores none of them, and ingests the text files of the run', async () => {
    const docs = join(workspace.path, 'docs');
    mkdirSync(docs, { recursive: true });
    writeFileSync(join(docs, 'tides.md'), '# Tides\n\nTides are caused by the moon.\n');
    writeFileSync(join(docs, 'café.txt'), 'Un café, s’il vous plaît. ☕\n');
    // Binary files with the extensions ragql reads, so that only their content gives them away.
    writeFileSync(join(docs, 'report.txt'), pdfFile());
    writeFileSync(join(docs, 'scan.md'), pngFile());
    writeFileSync(join(docs, 'notes.html'), gzipSync('<p>Compressed notes.</p>'));
    writeFileSync(join(docs, 'latin1.txt'), Buffer.from('Caf\xe9 au lait, d\xe9j\xe0 vu.\n', 'latin1'));
    // A file named on the command line is read whatever its extension.
    const pdf = join(workspace.path, 'paper.pdf');
    writeFileSync(pdf, pdfFile());

    const outcome = await run(process.execPath, [ragqlCli, 'ingest', docs, pdf], {
      env: { ...process.env, RAGQL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      cwd: workspace.path,
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);

    expect('code' in outcome ? outcome.code : 0).toBe(1);
    expect(outcome.stdout).toContain(
      'Ingested 2 files: 2 created, 0 updated, 0 unchanged. Refused 5 that are not text.',
    );
    for (const [file, reason] of [
      ['docs/report.txt', 'it holds binary data, not text'],
      ['docs/scan.md', 'it holds binary data, not text'],
      ['docs/notes.html', 'it holds binary data, not text'],
      ['docs/latin1.txt', 'it is not UTF-8 text'],
      ['paper.pdf', 'it holds binary data, not text'],
    ]) {
      expect(outcome.stderr).toContain(`ragql ingest: refused ${file}: ${reason};`);
    }

    const services = await createServices(loadConfig({ RAGQL_DATA_DIR: dataDir }), createLogger('silent'));
    try {
      const stored = await services.store.forTenant('default').listDocuments({ limit: 100, filter: [] });
      expect(stored.map((document) => document.id).sort()).toEqual(['docs/café.txt', 'docs/tides.md']);
    } finally {
      await services.close();
    }
  });
});

describe('ingestDocuments with binary content', () => {
  it('refuses a document holding a NUL character, and stores nothing of the call', async () => {
    const dataDir = temporaryDataDir();
    const ragql = await startRagql(dataDir.path);
    try {
      const result = await ragql.execute(IngestDocumentsDocument, {
        documents: [
          { id: 'text', content: 'Tides are caused by the moon.' },
          { id: 'pdf', content: pdfFile().toString('latin1') },
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

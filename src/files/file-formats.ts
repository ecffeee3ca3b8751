/** The kinds of file ragql reads, and how it tells them apart. */
export type FileFormat = 'pdf' | 'docx' | 'html' | 'markdown' | 'text';

const formatsByExtension: Readonly<Record<string, FileFormat>> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.csv': 'text',
  '.tsv': 'text',
  '.json': 'text',
};

const formatsByMediaType: Readonly<Record<string, FileFormat>> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
  'text/csv': 'text',
  'text/tab-separated-values': 'text',
  'application/json': 'text',
};

/** The extensions a folder given to `ragql ingest` is searched for. */
export const documentExtensions: ReadonlySet<string> = new Set(Object.keys(formatsByExtension));

/** The format a file name's extension says, if ragql reads it. */
export function formatOfName(name: string): FileFormat | undefined {
  const extension = /\.[^./\\]+$/.exec(name.toLowerCase())?.[0];
  return extension === undefined ? undefined : formatsByExtension[extension];
}

/** The format a Content-Type says (parameters such as charset ignored), if ragql reads it. */
export function formatOfMediaType(contentType: string | null | undefined): FileFormat | undefined {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType ? formatsByMediaType[mediaType] : undefined;
}

/** Every name and type ragql reads, for the message that refuses a file of another kind. */
export const readableFormats =
  'PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md) and text (.txt, .csv, .tsv, .json)';

/**
 * The first bytes each binary format always starts with. A file is checked against its claimed
 * format before it is parsed, so that a mislabelled file is refused for what it is.
 */
export function contentMatchesFormat(format: FileFormat, bytes: Uint8Array): boolean {
  if (format === 'pdf') return startsWithText(bytes, '%PDF-', 1024);
  if (format === 'docx') return startsWithText(bytes, 'PK\u0003\u0004', 0);
  return true;
}

/** Whether `marker` occurs within the first `slack` bytes (PDF readers allow junk before %PDF-). */
function startsWithText(bytes: Uint8Array, marker: string, slack: number): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, slack + marker.length));
  return head.indexOf(marker, 0, 'latin1') !== -1;
}

import { getDocumentProxy } from 'unpdf';
import { FileRefusedError, type ParsedFile } from './parsed-file.ts';

/** What a PDF text item holds that ragql reads (pdf.js also yields marked-content items without text). */
interface TextItem {
  str: string;
  hasEOL: boolean;
  /** [scaleX, skewX, skewY, scaleY, x, y]: y is the baseline, rising up the page. */
  transform: number[];
  height: number;
}

/** Lines further apart than this many line heights start a new paragraph. */
const paragraphGap = 1.5;

/**
 * A PDF's text layer, read by pdf.js (through unpdf), page by page: pages are joined by a blank
 * line and each page's start is kept, so every chunk knows its pages. Text runs on one baseline
 * make a line; a gap wider than a line and a half between lines ends a paragraph, which keeps a
 * table's rows (evenly spaced lines) in one paragraph. A PDF with no text (a scan) is refused:
 * ragql does no OCR.
 */
export async function parsePdf(bytes: Uint8Array): Promise<ParsedFile> {
  // pdf.js takes the bytes over (detaching them), so it gets a copy. It runs no script in the file
  // (ragql renders nothing), and a damaged page is an error rather than text silently missing.
  const pdf = await getDocumentProxy(new Uint8Array(bytes), { stopAtErrors: true, verbosity: 0 }).catch(
    (error: unknown) => {
      const name = error instanceof Error ? error.name : '';
      if (name === 'PasswordException') throw new FileRefusedError('it is encrypted with a password');
      throw new FileRefusedError('it is not a PDF that can be read');
    },
  );
  try {
    const pages: string[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      const { items } = await page.getTextContent();
      pages.push(pageText(items.flatMap((item) => ('str' in item ? [item] : []))));
      page.cleanup();
    }
    const pageStarts: number[] = [];
    let content = '';
    for (const text of pages) {
      if (content !== '' && text !== '') content += '\n\n';
      pageStarts.push(content.length);
      content += text;
    }
    if (content.trim() === '') {
      throw new FileRefusedError('it has no text layer (a scanned PDF?); ragql does not read text in images');
    }
    const info = (await pdf.getMetadata()).info as { Title?: unknown };
    const title = typeof info.Title === 'string' && info.Title.trim() !== '' ? info.Title.trim() : undefined;
    return { title, content, layout: { pageStarts } };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

function pageText(items: readonly TextItem[]): string {
  const lines: { text: string; y: number; height: number }[] = [];
  let line: { text: string; y: number; height: number } | undefined;
  for (const item of items) {
    const y = item.transform[5] ?? 0;
    if (line && Math.abs(line.y - y) > Math.max(line.height, item.height) / 2) line = undefined;
    if (!line) {
      line = { text: '', y, height: item.height };
      lines.push(line);
    }
    line.text += item.str;
    line.height = Math.max(line.height, item.height);
    if (item.hasEOL) line = undefined;
  }
  let text = '';
  let previous: (typeof lines)[number] | undefined;
  for (const { text: raw, y, height } of lines) {
    const lineText = raw.replace(/\s+/g, ' ').trim();
    if (lineText === '') continue;
    if (previous) {
      const gap = previous.y - y;
      text += gap < 0 || gap > paragraphGap * Math.max(previous.height, height) ? '\n\n' : '\n';
    }
    text += lineText;
    previous = { text: lineText, y, height };
  }
  return text;
}

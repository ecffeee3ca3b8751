import { parseHTML } from 'linkedom';
import mammoth from 'mammoth';
import { type HtmlNode, textOfHtml } from './html-blocks.ts';
import { FileRefusedError, type ParsedFile } from './parsed-file.ts';

/**
 * A Word document's text: mammoth turns its paragraphs, heading styles, lists and tables into
 * HTML, which reads like a page's (headings as sections, a table's rows kept together). Its first
 * heading is the title.
 */
export async function parseDocx(bytes: Uint8Array): Promise<ParsedFile> {
  let html: string;
  try {
    html = (
      await mammoth.convertToHtml({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) })
    ).value;
  } catch (error) {
    throw new FileRefusedError(`it is not a Word document that can be read (${reason(error)})`);
  }
  const { document } = parseHTML(`<!doctype html><html><body>${html}</body></html>`);
  const text = textOfHtml(document.body as unknown as HtmlNode);
  return { title: text.sections[0]?.path[0], content: text.content, layout: { sections: text.sections } };
}

function reason(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

/**
 * Real files of each format ragql reads, made by the libraries that write them (pdf-lib for PDF,
 * docx for Word), so the parsers are tested on what other software produces.
 */

import { once } from 'node:events';
import { createDeflate } from 'node:zlib';
import {
  AlignmentType,
  Document,
  HeadingLevel,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
} from 'docx';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';

export interface PdfPage {
  /** Lines of text from the top of the page, each drawn on its own baseline. */
  lines: readonly PdfLine[];
}

/** A line of text, a gap before it (in line heights: 1 for the next line, 2 or more for a new paragraph), or a row of cells. */
export type PdfLine = { text: string; gapBefore?: number; size?: number } | { cells: readonly string[] };

/** A PDF with one page per entry, in Helvetica, with the title in its metadata when given. */
export async function pdfFile(pages: readonly PdfPage[], title?: string): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  if (title) pdf.setTitle(title);
  for (const { lines } of pages) {
    const page = pdf.addPage([612, 792]);
    let y = 740;
    for (const [position, line] of lines.entries()) {
      if ('cells' in line) {
        y -= position === 0 ? 0 : 15;
        for (const [column, cell] of line.cells.entries())
          page.drawText(cell, { x: 72 + column * 140, y, size: 12, font });
        continue;
      }
      const size = line.size ?? 12;
      y -= position === 0 ? 0 : (line.gapBefore ?? 1) * 15;
      page.drawText(line.text, { x: 72, y, size, font });
    }
  }
  return pdf.save();
}

/** A PDF whose only page is a drawn shape: what a scan without a text layer looks like to a reader. */
export async function pdfWithoutText(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.addPage([612, 792]).drawRectangle({ x: 72, y: 72, width: 200, height: 100 });
  return pdf.save();
}

/**
 * A decompression bomb: a PDF of a few hundred kilobytes whose page content stream inflates
 * (FlateDecode) to `inflatedMb` megabytes of spaces, which a reader must hold to read the page.
 */
export async function pdfBomb(inflatedMb: number): Promise<Uint8Array> {
  const deflate = createDeflate({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const megabyteOfSpaces = Buffer.alloc(1024 * 1024, ' ');
  for (let written = 0; written < inflatedMb; written++) {
    if (!deflate.write(megabyteOfSpaces)) await once(deflate, 'drain');
  }
  const ended = once(deflate, 'end');
  deflate.end();
  await ended;
  const pdf = await PDFDocument.create();
  const page = pdf.addPage([612, 792]);
  const contents = pdf.context.stream(Buffer.concat(compressed), { Filter: 'FlateDecode' });
  page.node.set(PDFName.of('Contents'), pdf.context.register(contents));
  return pdf.save();
}

export type DocxBlock =
  | { heading: string; level: 1 | 2 | 3 }
  | { paragraph: string }
  | { rows: readonly (readonly string[])[] };

/** A Word document of headings (Word's heading styles), paragraphs and tables. */
export async function docxFile(blocks: readonly DocxBlock[]): Promise<Uint8Array> {
  const levels = { 1: HeadingLevel.HEADING_1, 2: HeadingLevel.HEADING_2, 3: HeadingLevel.HEADING_3 } as const;
  const children = blocks.map((block) => {
    if ('heading' in block) return new Paragraph({ text: block.heading, heading: levels[block.level] });
    if ('paragraph' in block)
      return new Paragraph({ children: [new TextRun(block.paragraph)], alignment: AlignmentType.LEFT });
    return new Table({
      rows: block.rows.map(
        (cells) =>
          new TableRow({ children: cells.map((cell) => new TableCell({ children: [new Paragraph(cell)] })) }),
      ),
    });
  });
  const document = new Document({ sections: [{ children }] });
  return new Uint8Array(await Packer.toBuffer(document));
}

/**
 * The text of an HTML element tree as ragql indexes it: one paragraph per block (a blank line
 * between blocks, which is where the chunker cuts first), headings as the sections they open, a
 * table as one block of rows (cells joined by " | ", a row a line) so that its rows stay together
 * in one chunk when they fit, and a list as one block of "- " lines. HTML pages (after their main
 * content is found) and Word documents (converted to HTML by mammoth) both read through it.
 */
import type { SectionStart } from '../rag/index.ts';

export interface TextWithSections {
  content: string;
  sections: SectionStart[];
}

/** The parts of a DOM node the walk reads; linkedom's nodes have them. */
export interface HtmlNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<HtmlNode>;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const DOCUMENT_NODE = 9;
const DOCUMENT_FRAGMENT_NODE = 11;

const blockElements = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'BODY',
  'DD',
  'DETAILS',
  'DIV',
  'DL',
  'DT',
  'FIELDSET',
  'FIGCAPTION',
  'FIGURE',
  'FOOTER',
  'FORM',
  'HEADER',
  'HR',
  'MAIN',
  'NAV',
  'P',
  'SECTION',
  'SUMMARY',
]);
const skippedElements = new Set([
  'SCRIPT',
  'STYLE',
  'NOSCRIPT',
  'TEMPLATE',
  'SVG',
  'CANVAS',
  'IFRAME',
  'HEAD',
]);
const headingLevels: Record<string, number> = { H1: 1, H2: 2, H3: 3, H4: 4, H5: 5, H6: 6 };

export function textOfHtml(root: HtmlNode): TextWithSections {
  const writer = new BlockWriter();
  walk(root, writer);
  return writer.finish();
}

function walk(node: HtmlNode, writer: BlockWriter): void {
  if (node.nodeType === TEXT_NODE) {
    writer.inline(node.textContent ?? '');
    return;
  }
  if (![ELEMENT_NODE, DOCUMENT_NODE, DOCUMENT_FRAGMENT_NODE].includes(node.nodeType)) return;
  const name = node.nodeName.toUpperCase();
  if (skippedElements.has(name)) return;
  const level = headingLevels[name];
  if (level !== undefined) {
    writer.heading(level, inlineText(node));
  } else if (name === 'TABLE') {
    writer.block(tableText(node));
  } else if (name === 'UL' || name === 'OL') {
    writer.block(listText(node));
  } else if (name === 'PRE') {
    writer.block((node.textContent ?? '').replace(/^\n+|\s+$/g, ''));
  } else if (name === 'BR') {
    writer.inline('\n');
  } else if (blockElements.has(name)) {
    writer.endBlock();
    for (const child of Array.from(node.childNodes)) walk(child, writer);
    writer.endBlock();
  } else {
    for (const child of Array.from(node.childNodes)) walk(child, writer);
  }
}

/** A node's text on one line, its whitespace collapsed. */
function inlineText(node: HtmlNode): string {
  return collapse(node.textContent ?? '');
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function tableText(table: HtmlNode): string {
  const rows: string[] = [];
  const visit = (node: HtmlNode) => {
    for (const child of Array.from(node.childNodes)) {
      const name = child.nodeName.toUpperCase();
      if (name === 'TR') {
        const cells = Array.from(child.childNodes)
          .filter((cell) => ['TD', 'TH'].includes(cell.nodeName.toUpperCase()))
          .map(inlineText);
        if (cells.some((cell) => cell !== '')) rows.push(cells.join(' | '));
      } else if (['THEAD', 'TBODY', 'TFOOT'].includes(name)) {
        visit(child);
      }
    }
  };
  visit(table);
  return rows.join('\n');
}

function listText(list: HtmlNode): string {
  return Array.from(list.childNodes)
    .filter((item) => item.nodeName.toUpperCase() === 'LI')
    .map((item) => `- ${inlineText(item)}`)
    .join('\n');
}

/** Collects blocks and the sections their headings open, with each block's offset in the text. */
class BlockWriter {
  private readonly blocks: string[] = [];
  private length = 0;
  private pending = '';
  private readonly headings: { level: number; title: string }[] = [];
  private readonly sections: SectionStart[] = [];

  inline(text: string): void {
    this.pending += text;
  }

  endBlock(): void {
    const text = this.pending
      .split('\n')
      .map(collapse)
      .filter((line) => line !== '')
      .join('\n');
    this.pending = '';
    this.block(text);
  }

  block(text: string): void {
    if (this.pending !== '') this.endBlock();
    if (text === '') return;
    // Blocks are joined by a blank line: two characters before every block but the first.
    this.length += (this.blocks.length > 0 ? 2 : 0) + text.length;
    this.blocks.push(text);
  }

  heading(level: number, title: string): void {
    if (title === '') return;
    while ((this.headings.at(-1)?.level ?? 0) >= level) this.headings.pop();
    this.headings.push({ level, title });
    if (this.pending !== '') this.endBlock();
    const start = this.blocks.length > 0 ? this.length + 2 : 0;
    this.sections.push({ start, path: this.headings.map((heading) => heading.title) });
    this.block(title);
  }

  finish(): TextWithSections {
    this.endBlock();
    return { content: this.blocks.join('\n\n'), sections: this.sections };
  }
}

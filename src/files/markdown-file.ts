import { fromMarkdown } from 'mdast-util-from-markdown';
import { toString as textOf } from 'mdast-util-to-string';
import type { SectionStart } from '../rag/index.ts';
import type { ParsedFile } from './parsed-file.ts';

/**
 * A Markdown document, stored as written (its text is what people search and read), with its
 * headings as sections: parsed by micromark (CommonMark), so a `#` inside a code block or a
 * paragraph is not a heading. The first top-level heading is the title.
 */
export function parseMarkdown(markdown: string): ParsedFile {
  const sections: SectionStart[] = [];
  const open: { depth: number; title: string }[] = [];
  let title: string | undefined;
  for (const node of fromMarkdown(markdown).children) {
    if (node.type !== 'heading' || node.position?.start.offset === undefined) continue;
    const heading = textOf(node).replace(/\s+/g, ' ').trim();
    if (heading === '') continue;
    if (node.depth === 1) title ??= heading;
    while ((open.at(-1)?.depth ?? 0) >= node.depth) open.pop();
    open.push({ depth: node.depth, title: heading });
    sections.push({ start: node.position.start.offset, path: open.map((heading) => heading.title) });
  }
  return { title, content: markdown, layout: { sections } };
}

import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { type HtmlNode, textOfHtml } from './html-blocks.ts';
import { FileRefusedError, type ParsedFile } from './parsed-file.ts';

/**
 * How deep a page's elements may nest. Browsers build no deeper tree (Chromium's parser stops at
 * 512), and Readability's scoring grows with depth for every node: a 250 KB page of 50,000
 * nested divs held the parsing thread past its time limit.
 */
const mostNesting = 512;

interface Nested {
  children: ArrayLike<Nested>;
}

/** The depth of the deepest element under `root`, counted without recursion. */
function depthOf(root: Nested): number {
  let deepest = 0;
  const pending: [Nested, number][] = [[root, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [element, depth] = next;
    deepest = Math.max(deepest, depth);
    for (const child of Array.from(element.children)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** Links kept of one page: enough for any crawl ragql does (100 pages at most). */
const mostLinks = 1000;

/** Page furniture that is never the content, for pages whose main content Readability cannot find. */
const furniture =
  'nav, header, footer, aside, form, [role="navigation"], [role="banner"], [role="contentinfo"]';

/**
 * An HTML page's main content (Readability, the algorithm of Firefox's reader view, on a linkedom
 * DOM), without its navigation, header, footer or sidebars; the page's title as the title.
 */
export function parseHtml(html: string): ParsedFile {
  // linkedom puts a fragment's nodes outside the body it makes, so a page without one is given one.
  const page = /<body[\s>]/i.test(html) ? html : `<!doctype html><html><body>${html}</body></html>`;
  const { document } = parseHTML(page);
  const depth = depthOf(document.documentElement as unknown as Nested);
  if (depth > mostNesting) {
    throw new FileRefusedError(
      `it nests elements ${depth} deep; ragql reads pages nested at most ${mostNesting} deep, as browsers build them`,
    );
  }
  const pageTitle = document.querySelector('title')?.textContent?.trim() || undefined;
  // Read before Readability, which takes the navigation (and its links) away.
  const links = [...document.querySelectorAll('a[href]')]
    .map((anchor) => anchor.getAttribute('href') ?? '')
    .filter((href) => href !== '')
    .slice(0, mostLinks);
  const article = new Readability<Node>(document as unknown as Document, {
    serializer: (node) => node,
  }).parse();
  const main = article?.content;
  let text = main ? textOfHtml(main as unknown as HtmlNode) : undefined;
  if (!text || text.content === '') {
    // Readability takes the DOM apart as it reads it, so the fallback reads the page afresh.
    const fallback = parseHTML(page).document;
    for (const element of fallback.querySelectorAll(furniture)) element.remove();
    text = textOfHtml(fallback.body as unknown as HtmlNode);
  }
  return {
    title: article?.title?.trim() || pageTitle,
    content: text.content,
    layout: { sections: text.sections },
    links,
  };
}

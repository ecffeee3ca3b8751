import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/**
 * The answer page at `/`: plain HTML, CSS and a script of ragql's own (src/ui/), which ask
 * through the public GraphQL API only. Nothing is fetched from elsewhere, and the page's Content
 * Security Policy allows nothing else.
 */
const folder = join(import.meta.dirname, '../ui');
const files: Record<string, { file: string; type: string }> = {
  '/': { file: 'answer-page.html', type: 'text/html; charset=utf-8' },
  '/ui/answer-page.js': { file: 'answer-page.js', type: 'text/javascript; charset=utf-8' },
  '/ui/graphql.js': { file: 'graphql.js', type: 'text/javascript; charset=utf-8' },
  '/ui/ask.js': { file: 'ask.js', type: 'text/javascript; charset=utf-8' },
  '/ui/search.js': { file: 'search.js', type: 'text/javascript; charset=utf-8' },
  '/ui/documents.js': { file: 'documents.js', type: 'text/javascript; charset=utf-8' },
  '/ui/answer-page.css': { file: 'answer-page.css', type: 'text/css; charset=utf-8' },
};
const contents = new Map<string, string>();

const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The request's path as sent, before the query string. Not parsed as a URL: `//graphql` would
 * parse as a host named graphql and the path `/`.
 */
function pathOf(request: IncomingMessage): string {
  return (request.url ?? '').split('?')[0] ?? '';
}

/** Whether the request is for the page or one of its files, by exact path. */
export function isAnswerPageRequest(request: IncomingMessage): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && Object.hasOwn(files, pathOf(request));
}

export function serveAnswerPage(request: IncomingMessage, response: ServerResponse): void {
  const path = pathOf(request);
  const entry = files[path];
  if (!entry) {
    response.writeHead(404).end();
    return;
  }
  let body = contents.get(path);
  if (body === undefined) {
    body = readFileSync(join(folder, entry.file), 'utf8');
    contents.set(path, body);
  }
  response.writeHead(200, {
    'content-type': entry.type,
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

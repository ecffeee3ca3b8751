import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL with its scripts, styles and workers inline, from ragql's own dependencies
 * (@graphql-yoga/render-graphiql): it works with no network beyond ragql, where Yoga's default
 * page loads them from a CDN and shows only "Loading…" offline or behind a strict proxy. The page
 * is about 9 MB, so each set of options is rendered once.
 */
const pages = new Map<string, string>();

export function renderOfflineGraphiQL(options?: GraphiQLOptions): string {
  const key = JSON.stringify(options ?? {});
  let page = pages.get(key);
  if (page === undefined) {
    page = renderGraphiQL(options);
    pages.set(key, page);
  }
  return page;
}

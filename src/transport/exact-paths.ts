import type { Plugin } from 'graphql-yoga';

/**
 * Answers 404 to every path but the ones listed, compared exactly. Yoga serves GraphQL at any
 * URL that merely ends with the endpoint (`//graphql`, `/x/graphql`, `/graphql/`, even
 * `/?/graphql`), and a check keyed on the exact path (authentication) would miss those variants.
 * With this plugin first, the only GraphQL route is the endpoint itself, as graphql-ws's upgrade
 * path is. The URL is the parsed one, so dot segments (`/./graphql`) are already resolved.
 */
export function useExactPaths(paths: readonly string[]): Plugin {
  const served = new Set(paths);
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (!served.has(url.pathname)) endResponse(new fetchAPI.Response(null, { status: 404 }));
    },
  };
}

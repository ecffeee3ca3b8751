import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';

/** The origins whose pages may call ragql (RAGQL_CORS_ORIGINS): any, none, or these. */
export type AllowedOrigins = '*' | 'none' | readonly string[];

/** The request headers that tell where a browser request comes from. */
export interface RequestOrigin {
  /** `Origin`: sent by browsers on every WebSocket upgrade, cross-origin fetch and POST. */
  origin: string | null;
  /** `Sec-Fetch-Site`: sent by current browsers on every request, an `<img>` or a link too. */
  fetchSite: string | null;
  /** `Host`: what the page's origin is compared with. */
  host: string | null;
}

export const foreignOriginMessage =
  'A page on a site RAGQL_CORS_ORIGINS does not allow cannot call this server from a browser.';

/**
 * Whether a request may have been sent by a page on another site than RAGQL_CORS_ORIGINS allows.
 * CORS alone guards only what a browser preflights: a GET (an `<img>`, a link, EventSource) and a
 * WebSocket upgrade reach the server from any site, and with authentication off such a request
 * would run answers (spending model tokens) or, over WebSocket, mutations. A request without
 * browser headers (curl, a server, an SDK) is not a browser's and is let through.
 */
export function isForeignBrowserRequest(request: RequestOrigin, allowed: AllowedOrigins): boolean {
  if (allowed === '*') return false;
  if (request.origin !== null) {
    if (request.origin !== 'null' && sameHost(request.origin, request.host)) return false;
    return allowed === 'none' || !allowed.includes(request.origin);
  }
  // No Origin: a same-origin GET, a navigation, or a cross-site `<img>`; only Fetch Metadata tells.
  return request.fetchSite === 'cross-site' || request.fetchSite === 'same-site';
}

function sameHost(origin: string, host: string | null): boolean {
  try {
    return host !== null && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** The origin headers of a Fetch API request (Yoga's). */
function requestOriginOf(headers: Headers): RequestOrigin {
  return {
    origin: headers.get('origin'),
    fetchSite: headers.get('sec-fetch-site'),
    host: headers.get('host'),
  };
}

/** The origin headers of a WebSocket upgrade (a Node request). */
export function upgradeOriginOf(request: IncomingMessage): RequestOrigin {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : null;
  };
  return { origin: header('origin'), fetchSite: header('sec-fetch-site'), host: header('host') };
}

/**
 * Refuses HTTP requests (403 `BAD_REQUEST`) from browser pages on sites RAGQL_CORS_ORIGINS does
 * not allow, before anything is parsed; a page of ragql's own origin (GraphiQL) is always allowed.
 */
export function useBrowserOriginCheck(allowed: AllowedOrigins): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (!isForeignBrowserRequest(requestOriginOf(request.headers), allowed)) return;
      const body = { errors: [{ message: foreignOriginMessage, extensions: { code: 'BAD_REQUEST' } }] };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 403,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}

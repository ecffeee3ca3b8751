import type { Plugin } from 'graphql-yoga';

/**
 * The media types a browser may POST from any site without asking the server first (a CORS
 * "simple request"): an HTML form or a plain fetch sends them with no preflight, so CORS, which
 * only hides the response, does not stop the operation from running.
 */
const mediaTypesSentWithoutPreflight = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

export const nonJsonBodyMessage =
  'GraphQL requests are POSTed as JSON (Content-Type: application/json); form and plain-text bodies are refused, because a browser sends them from any site.';

/**
 * Refuses cross-site request forgery: a POST whose body a browser would send cross-site without a
 * preflight (form, multipart or plain text, or no Content-Type at all) gets 415 before it is
 * parsed, so a page on another origin cannot run a mutation even with authentication off. JSON
 * bodies need a preflight, which RAGQL_CORS_ORIGINS decides. GET stays open for queries; Yoga
 * refuses mutations over GET (405).
 */
export function useCsrfPrevention(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (mediaType && !mediaTypesSentWithoutPreflight.has(mediaType)) return;
      const body = { errors: [{ message: nonJsonBodyMessage, extensions: { code: 'BAD_REQUEST' } }] };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 415,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
        }),
      );
    },
  };
}

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

/**
 * Headers that no page can send cross-site without a preflight (they are not CORS-safelisted),
 * so a multipart upload that carries one was sent by a client ragql's CORS rules allowed: the
 * API key's header, and the headers upload clients send for this purpose (Yoga's and Apollo's).
 */
export const uploadPreflightHeaders = ['authorization', 'x-graphql-yoga-csrf', 'apollo-require-preflight'];

export const nonJsonBodyMessage =
  'GraphQL requests are POSTed as JSON (Content-Type: application/json); form and plain-text bodies are refused, because a browser sends them from any site. A file upload (multipart/form-data) is taken with an Authorization or x-graphql-yoga-csrf header.';

/**
 * Refuses cross-site request forgery: a POST whose body a browser would send cross-site without a
 * preflight (form, multipart or plain text, or no Content-Type at all) gets 415 before it is
 * parsed, so a page on another origin cannot run a mutation even with authentication off. JSON
 * bodies need a preflight, which RAGQL_CORS_ORIGINS decides, and so do multipart uploads that
 * carry one of `uploadPreflightHeaders`. GET stays open for queries; Yoga refuses mutations over
 * GET (405).
 */
export function useCsrfPrevention(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (mediaType && !mediaTypesSentWithoutPreflight.has(mediaType)) return;
      if (
        mediaType === 'multipart/form-data' &&
        uploadPreflightHeaders.some((name) => request.headers.has(name))
      ) {
        return;
      }
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

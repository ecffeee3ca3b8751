import type { Plugin } from 'graphql-yoga';
import { type Authenticator, bearerKey } from '../access/api-keys.ts';

export const unauthenticatedMessage =
  'A valid API key is required: send it as "Authorization: Bearer <key>" (over graphql-ws, as connectionParams.authorization).';

/**
 * Refuses every HTTP request to the GraphQL path without a valid key before anything runs: plain
 * requests, SSE streams in both modes (single-connection reservations included), with status 401
 * and a GraphQL error whose code is UNAUTHENTICATED. graphql-ws connections, which carry their
 * key in connection_init rather than a header, are checked when they open (websocket.ts).
 */
export function useAuthentication(auth: Authenticator, endpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      if (auth.authenticate(bearerKey(request.headers.get('authorization')))) return;
      const body = { errors: [{ message: unauthenticatedMessage, extensions: { code: 'UNAUTHENTICATED' } }] };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 401,
          headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
        }),
      );
    },
  };
}

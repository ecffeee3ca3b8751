/**
 * Hostile HTTP, generated: paths that look like /graphql and bodies a browser sends cross-site.
 * Whatever the spelling, a request without a key never reaches GraphQL (401 on the route itself,
 * 404 elsewhere), and a body sent without a CORS preflight never runs a mutation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { fuzzSeed } from '../support/arbitraries.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { rawRequest } from '../support/raw-http.ts';
import { useRagql } from '../support/use-ragql.ts';

const key = createApiKey();
const probe = JSON.stringify({ query: '{ probedField }' });

/** "graphql" with letters in either case or percent-encoded, between prefixes and suffixes. */
const pathLikeGraphql = fc
  .tuple(
    fc.constantFrom('/', '//', '/./', '/%2e/', '/x/', '/x/../', '///', '/graphql/'),
    // Mostly as written, so that a good share of the variants differ from /graphql only around it.
    fc.array(
      fc.oneof(
        { arbitrary: fc.constant('lower'), weight: 8 },
        { arbitrary: fc.constant('upper'), weight: 1 },
        { arbitrary: fc.constant('encoded'), weight: 1 },
      ),
      { minLength: 7, maxLength: 7 },
    ),
    fc.constantFrom('', '/', '//', '.', '%20', '%2F', ';', '?', '?x=1', '/?', '%00'),
  )
  .map(([prefix, spellings, suffix]) => {
    const name = [...'graphql']
      .map((letter, index) => {
        const spelling = spellings[index];
        if (spelling === 'upper') return letter.toUpperCase();
        if (spelling === 'encoded') return `%${letter.charCodeAt(0).toString(16)}`;
        return letter;
      })
      .join('');
    return `${prefix}${name}${suffix}`;
  });

/** The path the server sees once the URL is parsed: dot segments resolved, nothing decoded. */
function parsedPath(path: string): string {
  return new URL(`http://127.0.0.1${path}`).pathname;
}

describe('hostile HTTP requests with authentication on', () => {
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [{ tenant: 'acme', tier: 'pro', hash: key.hash }],
    }),
    // Paths that parse to `/` are the answer page's: here every path but GraphQL's must be 404.
    RAGQL_UI: 'off',
  }));

  it('never lets a path variant reach GraphQL without a key', async () => {
    await fc.assert(
      fc.asyncProperty(pathLikeGraphql, fc.constantFrom('POST', 'GET', 'PUT'), async (path, method) => {
        const response = await rawRequest(
          ragql.server.port,
          method,
          method === 'GET' ? `${path}${path.includes('?') ? '&' : '?'}query=%7BprobedField%7D` : path,
          { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          method === 'POST' ? probe : undefined,
        );
        expect(response.body).not.toContain('probedField');
        expect(response.status).toBe(parsedPath(path) === '/graphql' ? 401 : 404);
      }),
      { numRuns: 300, seed: fuzzSeed },
    );
  });
});

describe('hostile cross-site bodies with authentication off', () => {
  const ragql = useRagql({ RAGQL_CORS_ORIGINS: 'https://app.example.com' });

  /** A media type a browser sends without a preflight, spelled any way a browser or an attacker might. */
  const simpleContentType = fc
    .tuple(
      fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'),
      fc.boolean(),
      fc.constantFrom('', '; charset=utf-8', ';boundary=x', ' ;charset=UTF-8', '; application/json'),
      fc.constantFrom('', ' ', '\t'),
    )
    .map(
      ([type, upper, parameters, padding]) => `${padding}${upper ? type.toUpperCase() : type}${parameters}`,
    );
  const mutation = fc.constantFrom(
    'mutation { ingestDocuments(documents: [{ id: "planted", content: "forged" }]) { created } }',
    'mutation { deleteDocument(id: "planted") { deleted } }',
  );
  const encoding = fc.constantFrom('form', 'json', 'raw');

  it('runs no mutation from a body a browser sends without a preflight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(simpleContentType, { nil: undefined }),
        mutation,
        encoding,
        async (contentType, query, encoded) => {
          const body =
            encoded === 'form'
              ? new URLSearchParams({ query }).toString()
              : encoded === 'json'
                ? JSON.stringify({ query })
                : query;
          const response = await rawRequest(
            ragql.server.port,
            'POST',
            '/graphql',
            {
              origin: 'https://evil.example',
              ...(contentType === undefined ? {} : { 'content-type': contentType }),
            },
            body,
          );
          expect(response.status).toBe(415);
        },
      ),
      { numRuns: 200, seed: fuzzSeed },
    );
    const listed = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ documents(first: 5) { edges { node { id } } } }' }),
    });
    expect(await listed.json()).toEqual({ data: { documents: { edges: [] } } });
  });
});

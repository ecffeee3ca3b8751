import type { NamedFile } from '../../src/files/document-files.ts';

/**
 * A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec): the
 * operation with a null for each file in `variables.files`, the map from part to variable, then
 * the files. fetch's FormData writes the multipart body, as a browser's would.
 */
export function uploadFiles(
  url: string,
  query: string,
  files: readonly NamedFile[],
  headers: Record<string, string> = { 'x-graphql-yoga-csrf': '1' },
): Promise<Response> {
  const body = new FormData();
  body.append('operations', JSON.stringify({ query, variables: { files: files.map(() => null) } }));
  body.append(
    'map',
    JSON.stringify(Object.fromEntries(files.map((_, index) => [index, [`variables.files.${index}`]]))),
  );
  for (const [index, file] of files.entries()) {
    // A copy on a plain ArrayBuffer: a Blob takes no view of a SharedArrayBuffer.
    body.append(String(index), new File([Uint8Array.from(file.bytes)], file.name, { type: file.type ?? '' }));
  }
  return fetch(url, { method: 'POST', headers, body });
}

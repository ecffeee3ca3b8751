// Requests to ragql's public GraphQL API, the only thing the page talks to, with the API key the
// person entered (kept in this tab's session storage) as a bearer token.
const keyField = document.getElementById('api-key');
const storedKey = 'ragql-api-key';
keyField.value = sessionStorage.getItem(storedKey) ?? '';
keyField.addEventListener('change', () => sessionStorage.setItem(storedKey, keyField.value));

/** Runs `reload` when the person enters another key: what the screens listed was the old key's. */
export function onKeyChange(reload) {
  keyField.addEventListener('change', reload);
}

/** A GraphQL request's headers, with the API key when one was entered. */
export function requestHeaders(accept) {
  const headers = { accept };
  if (keyField.value) headers.authorization = `Bearer ${keyField.value}`;
  return headers;
}

/** GraphQL errors as one line: each error's code and message. */
export function errorText(errors) {
  return errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; ');
}

/** A query or mutation's data; its errors, or the HTTP status without a GraphQL answer, thrown. */
export async function graphql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { ...requestHeaders('application/json'), 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return resultOf(response);
}

/**
 * A mutation that takes files, as a GraphQL multipart request (the spec Yoga reads): the
 * operation with a null for each file, the map, then the files. The x-graphql-yoga-csrf header
 * is what tells ragql a page of its own sent it, which a form on another site cannot.
 */
export async function upload(query, files) {
  const body = new FormData();
  body.append('operations', JSON.stringify({ query, variables: { files: files.map(() => null) } }));
  body.append(
    'map',
    JSON.stringify(Object.fromEntries(files.map((_, index) => [index, [`variables.files.${index}`]]))),
  );
  for (const [index, file] of files.entries()) body.append(String(index), file);
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { ...requestHeaders('application/json'), 'x-graphql-yoga-csrf': 'answer-page' },
    body,
  });
  return resultOf(response);
}

async function resultOf(response) {
  let result;
  try {
    result = await response.json();
  } catch {
    throw new Error(`the server answered ${response.status}`);
  }
  if (result.errors?.length) {
    const error = new Error(errorText(result.errors));
    error.graphqlErrors = result.errors;
    throw error;
  }
  return result.data;
}

// Module hooks (node:module `register`) that load the .ts and .js files of one folder as ES
// modules; see src/es-module-scope.ts. Plain JavaScript, because these hooks run in the hooks
// thread beside tsx's, and under test runners without tsx.

/** The folder's file URL, ending with a slash. */
let folder = '';

/** @param {{ folder: string }} data */
export function initialize(data) {
  folder = data.folder;
}

/**
 * @param {string} specifier
 * @param {object} context
 * @param {(specifier: string, context: object) => Promise<{ url: string, format?: string | null }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(folder)) return resolved;
  const { pathname } = new URL(resolved.url);
  // The folder's own modules; packages installed in it keep the format their package.json gives.
  if (!/\.(?:ts|js)$/.test(pathname) || pathname.includes('/node_modules/')) return resolved;
  return { ...resolved, format: 'module' };
}

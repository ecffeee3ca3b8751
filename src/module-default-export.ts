import { pathToFileURL } from 'node:url';

/**
 * The default export of the module at the absolute path `file` (undefined when it has none), for
 * the modules users point ragql at: the config file and plugin files. A module that fails to load
 * throws what `failure` makes of the reason, so that the message names the file and its role.
 */
export async function importDefaultExport(
  file: string,
  failure: (reason: string) => Error,
): Promise<unknown> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw failure(error instanceof Error ? error.message : String(error));
  }
  return module.default;
}

import { register } from 'node:module';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Folders whose modules already load as ES modules: hooks are registered once per folder. */
const esModuleFolders = new Set<string>();

/**
 * Makes the .ts and .js modules of a folder of integrators' code (a plugins folder, the config
 * file's folder) load as ES modules, as ragql's examples are written, wherever the folder is.
 * Node decides a file's format by the nearest package.json, and a folder outside any package is
 * CommonJS: tsx then compiled an ES-module plugin to CommonJS, which Node recognised as ES-module
 * syntax and tried to require() while import() was still loading it ("Cannot require() ES Module
 * ... in a cycle"). Packages installed in the folder (node_modules) keep their own format.
 */
export function loadAsEsModules(directory: string): void {
  const folder = pathToFileURL(directory.endsWith(sep) ? directory : `${directory}${sep}`).href;
  if (esModuleFolders.has(folder)) return;
  register('./es-module-hooks.mjs', { parentURL: import.meta.url, data: { folder } });
  esModuleFolders.add(folder);
}

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The last lines of a log file, for error messages; reads at most the file's last 64 KiB. */
export function lastLines(path: string, count = 40): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  const size = statSync(path).size;
  const length = Math.min(size, 64 * 1024);
  const buffer = Buffer.alloc(length);
  const descriptor = openSync(path, 'r');
  try {
    readSync(descriptor, buffer, 0, length, size - length);
  } finally {
    closeSync(descriptor);
  }
  return buffer.toString('utf8').trimEnd().split('\n').slice(-count).join('\n');
}

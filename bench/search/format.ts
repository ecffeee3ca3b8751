/** How the benchmark writes its figures. */

export function formatMs(milliseconds: number): string {
  return milliseconds.toFixed(2);
}

export function megabytes(bytes: number): number {
  return bytes / 1024 / 1024;
}

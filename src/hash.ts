import { createHash } from 'node:crypto';

/** sha256 of a string's UTF-8 bytes, as 64 hex digits. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

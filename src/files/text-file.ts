import { FileRefusedError } from './parsed-file.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A text file's characters (a byte-order mark dropped). Refused when it holds a NUL byte (no text
 * does, and every binary format soon does) or bytes that are not UTF-8.
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes.includes(0)) throw new FileRefusedError('it holds binary data, not text');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new FileRefusedError('it is not UTF-8 text');
  }
}

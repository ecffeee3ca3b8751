/** Reading datasets in BEIR's layout: corpus.jsonl (or .gz), queries.jsonl, qrels/. */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/** A corpus line: BEIR's document. */
export interface BeirDocument {
  _id: string;
  title?: string;
  text: string;
}

/** A queries line. */
export interface BeirQuery {
  _id: string;
  text: string;
}

/** The dataset's corpus, plain or gzipped. */
export function corpusPath(datasetDir: string): string {
  const plain = join(datasetDir, 'corpus.jsonl');
  return existsSync(plain) ? plain : `${plain}.gz`;
}

export async function* readJsonLines<T>(path: string): AsyncIterable<T> {
  const input = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as T;
}

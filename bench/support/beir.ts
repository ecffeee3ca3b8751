/** Reading datasets in BEIR's layout: corpus.jsonl (or .gz), queries.jsonl, qrels/. */
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/** qrels/<split>.tsv: for each query, its relevant documents and their grades (0 and below left out). */
export async function readJudgments(path: string): Promise<Map<string, Map<string, number>>> {
  const judgments = new Map<string, Map<string, number>>();
  const [, ...rows] = (await readFile(path, 'utf8')).trim().split('\n');
  for (const row of rows) {
    const [queryId = '', documentId = '', score = '0'] = row.split('\t');
    if (Number(score) <= 0) continue;
    const forQuery = judgments.get(queryId) ?? new Map<string, number>();
    forQuery.set(documentId, Number(score));
    judgments.set(queryId, forQuery);
  }
  return judgments;
}

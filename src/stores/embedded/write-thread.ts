import { RequestThread } from '../../threads/request-thread.ts';
import type { FileWrite, PreparedWrite, WriteRequest } from './write-thread-handler.ts';

export type { FileWrite, PreparedWrite } from './write-thread-handler.ts';

/**
 * The embedded store's writes, on a worker thread with a connection of its own to each tenant file.
 * A write of 7,000 chunks (one 5 MB document, or 1000 small ones) is a few hundred milliseconds
 * of SQLite work (inserting the rows and the FTS5 terms, then the commit); on the event loop that
 * stalled every request for as long. WAL lets the event loop's connection read the last commit
 * meanwhile. One thread serves every file of a store, one write at a time, so each file has one
 * writer.
 */
export class WriteThread {
  private readonly thread = new RequestThread<WriteRequest, PreparedWrite | null>(
    new URL('./write-thread-handler.ts', import.meta.url),
  );
  private readonly openFiles = new Set<string>();

  /** Does the write in a transaction it leaves open; `commit` ends it. */
  async prepare(path: string, write: FileWrite): Promise<PreparedWrite> {
    this.openFiles.add(path);
    return (await this.thread.request({ step: 'prepare', path, write })) as PreparedWrite;
  }

  /** Commits the file's prepared write. */
  async commit(path: string): Promise<void> {
    await this.thread.request({ step: 'commit', path });
  }

  /** Closes the thread's connection to a file, if it opened one. */
  async closeFile(path: string): Promise<void> {
    if (!this.openFiles.delete(path) || !this.thread.running) return;
    await this.thread.request({ step: 'close', path });
  }

  close(): Promise<void> {
    this.openFiles.clear();
    return this.thread.close();
  }
}

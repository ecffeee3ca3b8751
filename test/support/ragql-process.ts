import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The ragql command, as users run it. */
export const ragqlCli = join(import.meta.dirname, '../../bin/ragql.js');

/** `ragql serve` in a process of its own, for tests that signal or kill it. */
export interface RagqlProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:PORT/graphql, from the server's start-up log line. */
  url: string;
  /** Resolves to the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `ragql serve` on a free port and waits until it says where it serves. */
export async function spawnRagql(environment: Record<string, string>, cwd?: string): Promise<RagqlProcess> {
  const child = spawn(process.execPath, [ragqlCli, 'serve'], {
    env: { ...process.env, ...environment, PORT: '0', LOG_LEVEL: 'info' },
    cwd,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const readUntilServing = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"([^"]+)"/.exec(output);
      if (!match?.[1]) return;
      // From now on the logs are drained unread, so that a full pipe never stalls the server.
      child.stderr?.off('data', readUntilServing);
      child.stderr?.resume();
      resolve(match[1]);
    };
    child.stderr?.on('data', readUntilServing);
    child.once('exit', () => reject(new Error(`ragql exited before serving: ${output}`)));
  });
  return { child, url, exited };
}

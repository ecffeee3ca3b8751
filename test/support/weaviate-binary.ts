/**
 * The pinned weaviate-server binary. Weaviate's server is an ordinary Go module, so it is built with
 * `go install` into a cache folder named for its version (a version bump builds anew). The first
 * build takes minutes; later ones reuse Go's module and build caches, and the binary is reused as is.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lastLines } from './log-tail.ts';

/**
 * The newest release that builds from the Go module proxy (its go.mod asks for Go 1.26.0, so no
 * GOTOOLCHAIN is needed): 1.39.4 to 1.39.7 need versions of github.com/weaviate/sroar that the
 * proxy does not serve (v0.0.17, v0.0.18), and it serves no 1.39.8 or later, nor any 1.40.
 */
export const WEAVIATE_VERSION = '1.39.3';
const WEAVIATE_PACKAGE = `github.com/weaviate/weaviate/cmd/weaviate-server@v${WEAVIATE_VERSION}`;

/** `$RAGQL_WEAVIATE_CACHE` (default `~/.cache/ragql`), then one folder per Weaviate version. */
export function weaviateCacheDir(): string {
  const root = process.env.RAGQL_WEAVIATE_CACHE || join(homedir(), '.cache', 'ragql');
  return join(root, `weaviate-v${WEAVIATE_VERSION}`);
}

/** The binary's path, building it first when it is missing. Throws (with the build log's tail) on failure. */
export async function ensureWeaviateBinary(): Promise<string> {
  const directory = weaviateCacheDir();
  const binary = join(directory, 'weaviate-server');
  if (existsSync(binary)) return binary;
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error(
      `weaviate-server v${WEAVIATE_VERSION} is not built (${binary}) and Go is not on PATH to build it`,
    );
  }
  mkdirSync(directory, { recursive: true });
  const releaseLock = await acquireBuildLock(join(directory, 'build.lock'));
  try {
    // Another process may have built it while this one waited for the lock.
    if (!existsSync(binary)) await build(directory, binary);
    return binary;
  } finally {
    releaseLock();
  }
}

async function build(directory: string, binary: string): Promise<void> {
  const logFile = join(directory, 'build.log');
  // go install writes into GOBIN as it links; a staging folder and a rename keep a half-written
  // binary from ever standing at the path other processes check.
  const staging = join(directory, 'staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const started = performance.now();
  const elapsed = () => formatDuration(performance.now() - started);
  progress(
    `building weaviate-server v${WEAVIATE_VERSION} with go install (minutes the first time); log: ${logFile}`,
  );
  const ticker = setInterval(() => progress(`still building weaviate-server (${elapsed()})`), 30_000);
  const log = openSync(logFile, 'w');
  try {
    const child = spawn('go', ['install', WEAVIATE_PACKAGE], {
      env: { ...process.env, GOBIN: staging },
      stdio: ['ignore', log, log],
    });
    const exitCode = await new Promise<number | string>((resolve) => {
      child.once('error', (error) => resolve(error.message));
      child.once('close', (code, signal) => resolve(code ?? `signal ${signal}`));
    });
    if (exitCode !== 0) {
      throw new Error(
        `go install ${WEAVIATE_PACKAGE} failed (${exitCode}) after ${elapsed()}; last lines of ${logFile}:\n${lastLines(logFile)}`,
      );
    }
    renameSync(join(staging, 'weaviate-server'), binary);
  } finally {
    clearInterval(ticker);
    closeSync(log);
    rmSync(staging, { recursive: true, force: true });
  }
  progress(`built weaviate-server v${WEAVIATE_VERSION} in ${elapsed()}: ${binary}`);
}

/**
 * One build at a time across processes (parallel test runs, CI and a developer): a lock file holding
 * the builder's pid, hard-linked into place so that it never exists without its content. A lock
 * whose process is gone is stale and taken over.
 */
async function acquireBuildLock(path: string): Promise<() => void> {
  const candidate = `${path}.${process.pid}`;
  let announced = false;
  for (;;) {
    writeFileSync(candidate, String(process.pid));
    try {
      linkSync(candidate, path);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(candidate, { force: true });
    }
    const holder = lockHolder(path);
    if (holder === undefined) continue; // released meanwhile
    if (!isAlive(holder)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!announced) progress(`waiting for process ${holder}, which is building weaviate-server`);
    announced = true;
    await sleep(1000);
  }
}

function lockHolder(path: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function progress(message: string): void {
  process.stderr.write(`[weaviate] ${message}\n`);
}

export function formatDuration(milliseconds: number): string {
  const seconds = Math.round(milliseconds / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

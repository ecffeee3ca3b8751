/**
 * Real Weaviate nodes on loopback for the tests: free ports, a fresh data dir (or an old one, to
 * restart a node on its data), the server's output in a log file in that dir, and no process left
 * behind when the test process ends, however it ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lastLines } from './log-tail.ts';
import { ensureWeaviateBinary, formatDuration } from './weaviate-binary.ts';

/** A node's ports; see `allocateWeaviatePorts` for the two that must follow another. */
export interface WeaviatePorts {
  http: number;
  grpc: number;
  gossip: number;
  /** Node-to-node API (REST and gRPC on one port): gossip + 1. */
  data: number;
  raft: number;
  /** raft + 1. */
  raftInternalRpc: number;
}

export interface WeaviateClusterMember {
  name: string;
  ports: WeaviatePorts;
}

export interface WeaviateNodeOptions {
  /** The node's name in the cluster (CLUSTER_HOSTNAME). @default 'weaviate-0' */
  name?: string;
  /** Weaviate's data folder; pass a stopped node's to start on its data. @default a fresh temporary folder */
  dataDir?: string;
  /** @default free ports, from `allocateWeaviatePorts()` */
  ports?: WeaviatePorts;
  /** Every member of the node's cluster, itself included. @default this node alone */
  cluster?: WeaviateClusterMember[];
  /** @default ensureWeaviateBinary() */
  binary?: string;
  /** How long to wait for `/v1/.well-known/ready`. @default 60_000 */
  readyTimeoutMs?: number;
  /** More server variables, over the launcher's (say, API-key authentication). @default {} */
  environment?: Record<string, string>;
}

export interface WeaviateNode {
  name: string;
  httpUrl: string;
  /** `127.0.0.1:port`, the form WEAVIATE_GRPC_URL takes. */
  grpcAddress: string;
  dataDir: string;
  /** The server's output, appended across restarts. */
  logFile: string;
  ports: WeaviatePorts;
  /** The running server process (a new one after `restart`). */
  readonly process: ChildProcess;
  /** Sends a signal that ends the server and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then waits until the server has exited; the data dir stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same ports and data dir, and waits until it is ready. */
  restart(): Promise<void>;
  /** Stops the server and deletes its data dir. */
  remove(): Promise<void>;
}

export async function startWeaviateNode(options: WeaviateNodeOptions = {}): Promise<WeaviateNode> {
  const name = options.name ?? 'weaviate-0';
  const ports = options.ports ?? (await allocateWeaviatePorts());
  const binary = options.binary ?? (await ensureWeaviateBinary());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ragql-weaviate-'));
  // Made here, so deleted here when the node cannot start or its test process dies.
  const temporaryDataDir = options.dataDir ? undefined : dataDir;
  const logFile = join(dataDir, 'weaviate-server.log');
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  const environment = {
    ...serverEnvironment(name, dataDir, ports, options.cluster ?? [{ name, ports }]),
    ...options.environment,
  };
  const arguments_ = ['--host', '127.0.0.1', '--port', String(ports.http), '--scheme', 'http'];
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  let current: ChildProcess;
  const launch = async () => {
    current = spawnTracked(binary, arguments_, environment, logFile, temporaryDataDir);
    await waitUntilReady(current, name, httpUrl, logFile, readyTimeoutMs);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill(signal);
    await exited;
  };
  const stop = async () => {
    // A server that has not shut down after 30 s is killed: a test run must not hang on it.
    const deadline = setTimeout(() => current.kill('SIGKILL'), 30_000);
    await kill('SIGTERM');
    clearTimeout(deadline);
  };

  try {
    await launch();
  } catch (error) {
    if (temporaryDataDir) rmSync(temporaryDataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    name,
    httpUrl,
    grpcAddress: `127.0.0.1:${ports.grpc}`,
    dataDir,
    logFile,
    ports,
    get process() {
      return current;
    },
    kill,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    remove: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The server's whole environment: nothing is inherited from the test process, whose variables
 * (LOG_LEVEL, say) Weaviate would read too.
 */
function serverEnvironment(
  name: string,
  dataDir: string,
  ports: WeaviatePorts,
  cluster: WeaviateClusterMember[],
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dataDir,
    AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'true',
    PERSISTENCE_DATA_PATH: dataDir,
    DEFAULT_VECTORIZER_MODULE: 'none',
    ENABLE_MODULES: '',
    LOG_LEVEL: 'info',
    // No internet here, and tests should not report usage anywhere.
    DISABLE_TELEMETRY: 'true',
    // Otherwise every node binds a debug listener on :6060, and the second one fails to.
    GO_PROFILING_DISABLE: 'true',
    GRPC_PORT: String(ports.grpc),
    CLUSTER_HOSTNAME: name,
    CLUSTER_IN_LOCALHOST: 'true',
    // Without these, gossip and Raft bind and advertise the machine's first private address.
    CLUSTER_BIND_ADDR: '127.0.0.1',
    CLUSTER_ADVERTISE_ADDR: '127.0.0.1',
    CLUSTER_GOSSIP_BIND_PORT: String(ports.gossip),
    CLUSTER_DATA_BIND_PORT: String(ports.data),
    // The other members (joining itself stalls a node's start): a restarted node finds the cluster
    // through whichever is up.
    CLUSTER_JOIN: cluster
      .filter((member) => member.name !== name)
      .map((member) => `127.0.0.1:${member.ports.gossip}`)
      .join(','),
    RAFT_PORT: String(ports.raft),
    RAFT_INTERNAL_RPC_PORT: String(ports.raftInternalRpc),
    RAFT_JOIN: cluster.map((member) => `${member.name}:${member.ports.raft}`).join(','),
    RAFT_BOOTSTRAP_EXPECT: String(cluster.length),
    // Raft's timeouts are multiplied by 5 by default: a single node waits ~10 s to elect itself,
    // and a cluster that loses its leader as long to elect another. Weaviate's own tests use 1.
    RAFT_TIMEOUTS_MULTIPLIER: '1',
    // A killed node is declared dead in about a second rather than after several probe rounds.
    MEMBERLIST_FAST_FAILURE_DETECTION: 'true',
  };
}

const portsHandedOut = new Set<number>();

/**
 * Free TCP ports for one node. Gossip and data, and Raft and its internal RPC, are consecutive:
 * on loopback a node reaches another's RPC server at that node's Raft port + 1, and its data API
 * at the gossip port + 1 when gossip has not brought its metadata yet. No port is handed out twice
 * in a process, so the nodes of a cluster, chosen one after another, never share one.
 */
export async function allocateWeaviatePorts(): Promise<WeaviatePorts> {
  const servers: Server[] = [];
  // No host: the port is then free on every interface, as Weaviate binds gRPC and data on all.
  const listen = (port: number) => {
    const server = createServer();
    servers.push(server);
    return new Promise<number | undefined>((resolve) => {
      server.once('error', () => resolve(undefined));
      server.listen(port, () => {
        const address = server.address();
        resolve(address !== null && typeof address !== 'string' ? address.port : undefined);
      });
    });
  };
  const isNew = (port: number) => !portsHandedOut.has(port);
  const take = async (count: 1 | 2): Promise<number> => {
    for (;;) {
      const port = await listen(0);
      if (port === undefined || !isNew(port)) continue;
      if (count === 2 && (port === 65535 || !isNew(port + 1) || (await listen(port + 1)) === undefined))
        continue;
      for (let offset = 0; offset < count; offset += 1) portsHandedOut.add(port + offset);
      return port;
    }
  };
  try {
    // Every server stays open until all are chosen, so the ports differ.
    const http = await take(1);
    const grpc = await take(1);
    const gossip = await take(2);
    const raft = await take(2);
    return { http, grpc, gossip, data: gossip + 1, raft, raftInternalRpc: raft + 1 };
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function isWeaviateReady(httpUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/v1/.well-known/ready`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function waitUntilReady(
  server: ChildProcess,
  name: string,
  httpUrl: string,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(
        `Weaviate node "${name}" exited (${server.exitCode ?? server.signalCode}) before it was ready; ` +
          `last lines of ${logFile}:\n${lastLines(logFile)}`,
      );
    }
    if (await isWeaviateReady(httpUrl)) return;
    await sleep(100);
  }
  server.kill('SIGKILL');
  throw new Error(
    `Weaviate node "${name}" was not ready at ${httpUrl} after ${formatDuration(timeoutMs)}; ` +
      `last lines of ${logFile}:\n${lastLines(logFile)}`,
  );
}

const runningServers = new Set<ChildProcess>();

function spawnTracked(
  binary: string,
  arguments_: string[],
  environment: Record<string, string>,
  logFile: string,
  temporaryDataDir: string | undefined,
): ChildProcess {
  const log = openSync(logFile, 'a');
  let server: ChildProcess;
  try {
    server = spawn(binary, arguments_, { env: environment, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  // Without a pid it never started (say, no binary at that path); its 'error' event follows.
  server.once('error', () => {});
  if (server.pid === undefined) throw new Error(`could not run ${binary}`);
  if (runningServers.size === 0) process.once('exit', killRunningServers);
  runningServers.add(server);
  server.once('exit', () => {
    runningServers.delete(server);
    if (runningServers.size === 0) process.off('exit', killRunningServers);
  });
  watchOwner(server.pid, temporaryDataDir);
  return server;
}

/** On a normal exit or a crash (an uncaught exception still emits 'exit'). */
function killRunningServers(): void {
  for (const server of runningServers) server.kill('SIGKILL');
}

/**
 * A signal (a CI timeout, Ctrl-C on a parent) or SIGKILL ends the test process without its 'exit'
 * event. A detached shell per server kills the server once the test process is gone, and deletes
 * the data dir the launcher made for it; it ends by itself when the server stops first.
 */
function watchOwner(serverPid: number, temporaryDataDir = ''): void {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'kill -0 "$1" 2>/dev/null && exit 0; ' +
    'kill -KILL "$2" 2>/dev/null; sleep 1; [ -n "$3" ] && rm -rf "$3"';
  const owner = String(process.pid);
  spawn('sh', ['-c', script, 'ragql-weaviate-watchdog', owner, String(serverPid), temporaryDataDir], {
    detached: true,
    stdio: 'ignore',
  }).unref();
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/composition/config.ts';
import { startServing } from '../../src/composition/serve.ts';
import type { RagqlServices } from '../../src/composition/services.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { RunningServer, ServerOptions } from '../../src/server.ts';
import { graphqlClient } from './graphql-client.ts';

export interface RagqlInstance {
  server: RunningServer;
  services: RagqlServices;
  dataDir: string;
  execute: ReturnType<typeof graphqlClient>;
  /** The server's log lines, parsed; set LOG_LEVEL (silent by default) to record them. */
  logs: Record<string, unknown>[];
  /** Stops the server and closes the store; the data dir stays. */
  stop(): Promise<void>;
}

export function temporaryDataDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'ragql-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A real ragql server on a free loopback port, configured by environment-style variables and, for
 * what no variable sets, the server's own options.
 */
export async function startRagql(
  dataDir: string,
  environment: Record<string, string> = {},
  serverOptions: Pick<ServerOptions, 'sseReservationIdleMs'> = {},
): Promise<RagqlInstance> {
  const config = loadConfig({ RAGQL_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', ...environment });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    config.logLevel,
    {
      write: (line: string) => {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
    { secrets: config.secrets },
  );
  const { server, services, close } = await startServing(config, logger, serverOptions);
  return { server, services, dataDir, execute: graphqlClient(server.graphqlUrl), logs, stop: close };
}

import type { Logger } from '../observability/logger.ts';
import { type RunningServer, type ServerOptions, startServer } from '../server.ts';
import type { RagqlConfig } from './config.ts';
import type { RagqlServices } from './services.ts';
import { createServices } from './services.ts';

/** A serving ragql: its services behind its HTTP server. */
export interface Serving {
  server: RunningServer;
  services: RagqlServices;
  /** Stops the server before closing the services, so no request reaches a closed store. */
  close(): Promise<void>;
}

/**
 * ragql as `ragql serve` runs it, and as the tests start it: the services the configuration
 * describes, behind a server on its host and port. `serverOptions` are what no variable sets.
 */
export async function startServing(
  config: RagqlConfig,
  logger: Logger,
  serverOptions: Pick<ServerOptions, 'sseReservationIdleMs'> = {},
): Promise<Serving> {
  const services = await createServices(config, logger);
  const server = await startServer({
    host: config.host,
    port: config.port,
    services,
    logger,
    http: config.http,
    ...serverOptions,
  });
  return {
    server,
    services,
    close: async () => {
      await server.close();
      await services.close();
    },
  };
}

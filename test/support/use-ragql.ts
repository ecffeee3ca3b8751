import { afterAll, beforeAll } from 'vitest';
import type { ServerOptions } from '../../src/server.ts';
import { type RagqlInstance, startRagql, temporaryDataDir } from './ragql-instance.ts';

/**
 * The variables the server starts with, or a function of the data dir that gives them when the
 * server starts: it can write a config file there, or read a stand-in an earlier beforeAll started.
 */
export type RagqlEnvironment = Record<string, string> | ((dataDir: string) => Record<string, string>);

/** The running server of a describe block; its getters read whichever instance runs now. */
export interface RagqlFixture extends RagqlInstance {
  /** Stops the running server and starts another on the same data dir (with `environment` if given). */
  restart(environment?: RagqlEnvironment): Promise<void>;
}

/**
 * One ragql server for the tests of the calling describe block, on a data dir of its own: started
 * in a beforeAll, stopped and its data dir removed in an afterAll. Vitest runs after-hooks in the
 * reverse order of their registration, so a stand-in started and closed by hooks registered before
 * this call outlives the server.
 */
export function useRagql(
  environment: RagqlEnvironment = {},
  serverOptions: Pick<ServerOptions, 'sseReservationIdleMs'> = {},
): RagqlFixture {
  const dataDir = temporaryDataDir();
  let instance: RagqlInstance | undefined;
  const start = async (chosen: RagqlEnvironment) => {
    instance = await startRagql(
      dataDir.path,
      typeof chosen === 'function' ? chosen(dataDir.path) : chosen,
      serverOptions,
    );
  };
  const stop = async () => {
    const running = instance;
    // Forgotten first, so that the afterAll does not stop a server a test stopped already.
    instance = undefined;
    await running?.stop();
  };
  const running = (): RagqlInstance => {
    if (!instance) throw new Error('ragql is not running: it starts in a beforeAll, and was stopped');
    return instance;
  };

  beforeAll(() => start(environment));
  afterAll(async () => {
    await stop();
    dataDir.remove();
  });

  return {
    get server() {
      return running().server;
    },
    get services() {
      return running().services;
    },
    get execute() {
      return running().execute;
    },
    get logs() {
      return running().logs;
    },
    dataDir: dataDir.path,
    stop,
    restart: async (chosen = environment) => {
      await stop();
      await start(chosen);
    },
  };
}

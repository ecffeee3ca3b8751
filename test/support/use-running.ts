import { afterAll, beforeAll } from 'vitest';

/**
 * Something a describe block's tests share (a stand-in server, a database): started in a
 * beforeAll, stopped in an afterAll. The handle exists before it does (the describe block hands it
 * to hooks at collection time), so each read goes to the running one, and a read outside the hooks
 * and tests throws instead of giving `undefined`. Vitest runs after-hooks in reverse order, so
 * what is used before `useRagql` outlives the server.
 */
export function useRunning<Running extends object>(
  name: string,
  start: () => Promise<Running>,
  stop: (running: Running) => Promise<void>,
): Running {
  let running: Running | undefined;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(async () => {
    const stopping = running;
    running = undefined;
    if (stopping) await stop(stopping);
  });
  return new Proxy({} as Running, {
    get(_handle, field) {
      if (!running) throw new Error(`${name} is not running: it starts in a beforeAll, and was stopped`);
      return Reflect.get(running, field);
    },
  });
}

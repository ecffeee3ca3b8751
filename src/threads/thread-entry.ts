// The start of every RequestThread (request-thread.ts): loads the handler, then answers requests.
import { parentPort, workerData } from 'node:worker_threads';

// A handler may return its reply or a promise of it.
type Handler = (request: unknown) => unknown;

const { handleRequest } = (await import(workerData.handler)) as { handleRequest: Handler };
// Only ever started as a worker, so there is always a parent to answer.
const parent = parentPort as NonNullable<typeof parentPort>;

// Requests are handled one at a time, in the order sent: a handler that returns a promise (file
// parsing awaits its parser) is done before the next request starts.
let previous: Promise<void> = Promise.resolve();
parent.on('message', ({ id, request }: { id: number; request: unknown }) => {
  previous = previous.then(async () => {
    try {
      parent.postMessage({ id, reply: await handleRequest(request) });
    } catch (error) {
      // An Error survives the copy between threads with its message (and the class of a built-in one).
      parent.postMessage({ id, error: error instanceof Error ? error : new Error(String(error)) });
    }
  });
});

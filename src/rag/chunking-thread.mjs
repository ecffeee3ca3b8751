// The worker thread behind chunking-thread.ts. Plain JavaScript, because a worker starts without
// the main thread's TypeScript loader: it registers tsx itself, then loads the preparation code.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { prepareChunks } = await import('./chunk-preparation.ts');

parentPort.on('message', ({ id, text, options }) => {
  try {
    parentPort.postMessage({ id, chunks: prepareChunks(text, options) });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});

import { describe, expect, it } from 'vitest';
import { SpaceGate } from '../../src/rag/space-gate.ts';

/** A promise and what settles it. */
function deferred() {
  return Promise.withResolvers<void>();
}

describe('the space gate', () => {
  it('runs exclusive work after the requests in flight, and holds new requests until it is done', async () => {
    const gate = new SpaceGate();
    const log: string[] = [];
    const first = deferred();
    const inFlight = gate.during(async () => {
      log.push('request 1 starts');
      await first.promise;
      log.push('request 1 ends');
    });
    const exclusive = gate.exclusive(async () => {
      log.push('switch');
    });
    const later = gate.during(async () => {
      log.push('request 2');
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['request 1 starts']);
    first.resolve();
    await Promise.all([inFlight, exclusive, later]);
    expect(log).toEqual(['request 1 starts', 'request 1 ends', 'switch', 'request 2']);
  });

  it('lets requests run together, and opens again when exclusive work fails', async () => {
    const gate = new SpaceGate();
    const both = deferred();
    let running = 0;
    let most = 0;
    const request = () =>
      gate.during(async () => {
        running++;
        most = Math.max(most, running);
        await both.promise;
        running--;
      });
    const requests = [request(), request()];
    await new Promise((resolve) => setImmediate(resolve));
    both.resolve();
    await Promise.all(requests);
    expect(most).toBe(2);
    await expect(gate.exclusive(() => Promise.reject(new Error('copy failed')))).rejects.toThrow(
      'copy failed',
    );
    expect(await gate.during(async () => 'served')).toBe('served');
  });
});

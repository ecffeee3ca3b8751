import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { deadline } from '../../src/abort.ts';

describe('deadline', () => {
  it('aborts with a TimeoutError when its time is up', async () => {
    const step = deadline(undefined, 20);
    await sleep(60);
    expect(step.signal.aborted).toBe(true);
    expect((step.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(step.timedOut()).toBe(true);
  });

  it("aborts with the parent's reason when the parent aborts first", () => {
    const parent = new AbortController();
    const step = deadline(parent.signal, 10_000);
    parent.abort(new Error('client left'));
    expect(step.signal.aborted).toBe(true);
    expect((step.signal.reason as Error).message).toBe('client left');
    expect(step.timedOut()).toBe(false);
    step.release();
  });

  it('is aborted from the start under a parent that already aborted', () => {
    const step = deadline(AbortSignal.abort(new Error('gone')), 10_000);
    expect((step.signal.reason as Error).message).toBe('gone');
    step.release();
  });

  it('once released, neither the clock nor the parent aborts it', async () => {
    const parent = new AbortController();
    const step = deadline(parent.signal, 20);
    step.release();
    await sleep(60);
    parent.abort();
    expect(step.signal.aborted).toBe(false);
  });
});

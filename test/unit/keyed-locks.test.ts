import { describe, expect, it } from 'vitest';
import { KeyedLocks } from '../../src/rag/keyed-locks.ts';

/** Whether the promise has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('KeyedLocks', () => {
  it('gives a key to one holder at a time, in the order they asked, and never holds up other keys', async () => {
    const waiting: number[] = [];
    const locks = new KeyedLocks((count) => waiting.push(count));
    const releaseFirst = await locks.acquire(['a']);
    const second = locks.acquire(['a']);
    const third = locks.acquire(['a']);
    expect(await settled(locks.acquire(['b']))).toBe(true);
    expect(await settled(second)).toBe(false);

    releaseFirst();
    const releaseSecond = await second;
    expect(await settled(third)).toBe(false);
    releaseSecond();
    (await third)();
    expect(waiting).toEqual([1, 2, 1, 0]);
  });

  it('takes overlapping sets of keys without deadlock, whatever order they are named in', async () => {
    const locks = new KeyedLocks();
    const releaseMiddle = await locks.acquire(['b']);
    const forwards = locks.acquire(['a', 'b', 'c']);
    const backwards = locks.acquire(['c', 'b', 'a']);
    releaseMiddle();
    (await forwards)();
    (await backwards)();
    expect(await settled(locks.acquire(['a', 'b', 'c']))).toBe(true);
  });

  it('takes a key named twice in one set once', async () => {
    const locks = new KeyedLocks();
    const release = await locks.acquire(['a', 'a']);
    release();
    expect(await settled(locks.acquire(['a']))).toBe(true);
  });

  it('lets go of the keys taken so far when the signal aborts while waiting for the next', async () => {
    const waiting: number[] = [];
    const locks = new KeyedLocks((count) => waiting.push(count));
    const releaseB = await locks.acquire(['b']);
    const controller = new AbortController();
    const abandoned = locks.acquire(['a', 'b'], controller.signal);
    expect(await settled(abandoned)).toBe(false);
    controller.abort(new Error('client gone'));
    await expect(abandoned).rejects.toThrow('client gone');
    expect(waiting).toEqual([1, 0]);
    // `a` was let go, and `b`'s queue no longer holds the abandoned caller.
    expect(await settled(locks.acquire(['a']))).toBe(true);
    releaseB();
    expect(await settled(locks.acquire(['b']))).toBe(true);
  });

  it('refuses at once a caller whose signal has already aborted', async () => {
    const locks = new KeyedLocks();
    await expect(locks.acquire(['a'], AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(await settled(locks.acquire(['a']))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { abortableDelay, untilAborted } from '../../core/sdk.ts';

describe('untilAborted', () => {
  it('settles with the promise when the signal stays quiet', async () => {
    await expect(untilAborted(Promise.resolve(3), new AbortController().signal)).resolves.toBe(3);
    await expect(untilAborted(Promise.reject(new Error('boom')), new AbortController().signal)).rejects.toThrow('boom');
  });

  it('rejects with the abort reason as soon as the signal aborts, though the promise never settles', async () => {
    const controller = new AbortController();
    const waiting = untilAborted(new Promise<never>(() => {}), controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
  });

  it('rejects at once for a signal already aborted, and a later failure of the promise goes nowhere', async () => {
    let fail!: (err: Error) => void;
    const promise = new Promise<never>((_resolve, reject) => (fail = reject));
    await expect(untilAborted(promise, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    fail(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('returns the promise itself without a signal', () => {
    const promise = Promise.resolve(1);
    expect(untilAborted(promise, undefined)).toBe(promise);
  });
});

describe('abortableDelay', () => {
  it('resolves once the time has passed while the signal stays quiet', async () => {
    const started = performance.now();
    await expect(abortableDelay(20, new AbortController().signal)).resolves.toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with the abort reason, not a generic AbortError, long before the time is up', async () => {
    const controller = new AbortController();
    const waiting = abortableDelay(3_600_000, controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
    await expect(abortableDelay(3_600_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});

import { describe, expect, it } from 'vitest';
import { WriteGroup } from '../../core/ledger/write-group.ts';

/** A send that records each group and finishes when the test lets it. */
function gatedSend() {
  const groups: number[][] = [];
  const gates: Array<() => void> = [];
  const send = (writes: readonly number[]): Promise<Array<Error | undefined>> => {
    groups.push([...writes]);
    return new Promise((resolve) => gates.push(() => resolve(writes.map((w) => (w < 0 ? new Error(`refused ${w}`) : undefined)))));
  };
  const open = async (): Promise<void> => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { groups, send, open };
}

describe('WriteGroup: writes of many callers in one statement', () => {
  it('sends the writes of one tick together', async () => {
    const { groups, send, open } = gatedSend();
    const group = new WriteGroup(send);
    const done = Promise.all([1, 2, 3].map((w) => group.write(w)));
    await open();
    await done;
    expect(groups).toEqual([[1, 2, 3]]);
  });

  it('gathers the writes that arrive while a statement runs into the next one', async () => {
    const { groups, send, open } = gatedSend();
    const group = new WriteGroup(send);
    const first = group.write(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((w) => group.write(w));
    expect(groups).toEqual([[1]]);
    await open();
    await first;
    await open();
    await Promise.all(later);
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it('fails only the write its send refused', async () => {
    const { send, open } = gatedSend();
    const group = new WriteGroup(send);
    const results = Promise.allSettled([group.write(5), group.write(-1), group.write(6)]);
    await open();
    expect((await results).map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every write of a statement that failed, and sends the next group all the same', async () => {
    let calls = 0;
    const group = new WriteGroup<number>(async (writes) => {
      calls += 1;
      if (calls === 1) throw new Error('connection lost');
      return writes.map(() => undefined);
    });
    const failed = Promise.allSettled([group.write(1), group.write(2)]);
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(group.write(3)).resolves.toBeUndefined();
  });

  it('keeps writes that may not share a statement for the next one, in order', async () => {
    const { groups, send, open } = gatedSend();
    // Odd and even writes never share a statement.
    const group = new WriteGroup(send, (writes, w) => writes.every((other) => other % 2 === w % 2));
    const done = Promise.all([1, 2, 3, 4, 5].map((w) => group.write(w)));
    await open();
    await open();
    await done;
    expect(groups).toEqual([
      [1, 3, 5],
      [2, 4],
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { FramePacer, type PacedReceiver } from './FramePacer.ts';

/** A receiver whose socket drains only when the test says so. */
class Receiver implements PacedReceiver {
  readonly got: number[] = [];
  bufferedBytes = 0;
  closed = false;
  /** Its socket hands everything to the kernel at once. */
  constructor(readonly drains = false) {}
  send(frame: Uint8Array): void {
    this.got.push(frame[0] ?? -1);
    if (!this.drains) this.bufferedBytes += frame.byteLength;
  }
}

const frames = (count: number, bytes: number, first = 0): Uint8Array[] => Array.from({ length: count }, (_, i) => new Uint8Array(bytes).fill(first + i));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await turn();
};

describe('FramePacer', () => {
  it('sends at most its budget per turn, round robin over receivers, each in order', async () => {
    const pacer = new FramePacer({ bytesPerTurn: 300, highWaterBytes: Infinity });
    const a = new Receiver();
    const b = new Receiver();
    // Nothing was waiting: the first 300 bytes go at once.
    pacer.send(a, frames(5, 100));
    expect(a.got).toEqual([0, 1, 2]);
    pacer.send(b, frames(5, 100, 10));
    expect(b.got).toEqual([]);
    // Next turn: a, b, a.
    await turn();
    expect([a.got, b.got]).toEqual([[0, 1, 2, 3, 4], [10]]);
    await turn();
    expect(b.got).toEqual([10, 11, 12, 13]);
    await until(() => pacer.waiting === 0);
    expect(a.got).toEqual([0, 1, 2, 3, 4]);
    expect(b.got).toEqual([10, 11, 12, 13, 14]);
  });

  it('gives a receiver more only once its socket drained below the high-water mark', async () => {
    const pacer = new FramePacer({ bytesPerTurn: 1000, highWaterBytes: 250, drainPollMs: 1 });
    const slow = new Receiver();
    const fast = new Receiver(true);
    pacer.send(slow, frames(4, 100));
    pacer.send(fast, frames(4, 100, 10));
    await until(() => fast.got.length === 4);
    // Fast drains all the time; slow stopped at the mark, its frames still queued, not buffered.
    expect(slow.got).toEqual([0, 1, 2]);
    expect(pacer.waiting).toBe(1);
    slow.bufferedBytes = 0;
    await until(() => pacer.waiting === 0);
    expect(slow.got).toEqual([0, 1, 2, 3]);
  });

  it('appends a second run for the same receiver after the first, and drops a receiver that closed', async () => {
    const pacer = new FramePacer({ bytesPerTurn: 100, highWaterBytes: Infinity });
    const a = new Receiver();
    const gone = new Receiver();
    pacer.send(a, frames(2, 100));
    pacer.send(a, frames(2, 100, 5));
    pacer.send(gone, frames(3, 100, 20));
    gone.closed = true;
    await until(() => pacer.waiting === 0);
    expect(a.got).toEqual([0, 1, 5, 6]);
    expect(gone.got).toEqual([]);
  });

  it('sends nothing after stop', async () => {
    const pacer = new FramePacer({ bytesPerTurn: 100, highWaterBytes: Infinity });
    const a = new Receiver();
    pacer.send(a, frames(3, 100));
    pacer.stop();
    await turn();
    await turn();
    expect(a.got).toEqual([0]);
    pacer.send(a, frames(1, 100, 9));
    expect(a.got).toEqual([0]);
  });
});

import { describe, expect, it } from 'vitest';
import { InboundPacer } from './InboundPacer.ts';

/** A clock the work moves forward, and timers run when the test says. */
function fakeTime() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => now,
    spend: (ms: number) => (now += ms),
    defer: (fn: () => void, ms: number) => void timers.push({ at: now + ms, fn }),
    /** Runs the next timer, the clock moved to its time; false when none. */
    next(): boolean {
      const timer = timers.shift();
      if (!timer) return false;
      now = Math.max(now, timer.at);
      timer.fn();
      return true;
    },
    get pending() {
      return timers.length;
    },
  };
}

describe('InboundPacer', () => {
  it('runs work in arrival order, never starting more once a period spent its budget, and resumes at the next period', () => {
    const time = fakeTime();
    const pacer = new InboundPacer({ budgetMs: 4, periodMs: 16, now: time.now, defer: time.defer });
    const ran: Array<{ i: number; at: number }> = [];
    for (let i = 0; i < 7; i++) {
      pacer.run(() => {
        ran.push({ i, at: time.now() });
        time.spend(3);
      });
    }
    // 3 ms each against 4 ms a period: two start per period.
    expect(ran.map((r) => r.i)).toEqual([0, 1]);
    expect(pacer.waiting).toBe(5);
    expect(time.pending).toBe(1);
    while (time.next());
    expect(ran.map((r) => r.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(ran.map((r) => r.at)).toEqual([0, 3, 16, 19, 32, 35, 48]);
    expect(pacer.waiting).toBe(0);
  });

  it('runs work at once while the budget allows, and later work waits behind earlier work', () => {
    const time = fakeTime();
    const pacer = new InboundPacer({ budgetMs: 4, periodMs: 16, now: time.now, defer: time.defer });
    const ran: string[] = [];
    pacer.run(() => ran.push('a'));
    pacer.run(() => ran.push('b'));
    expect(ran).toEqual(['a', 'b']);
    pacer.run(() => {
      ran.push('slow');
      time.spend(10);
    });
    pacer.run(() => ran.push('c'));
    expect(ran).toEqual(['a', 'b', 'slow']);
    time.spend(2);
    // Still within the period: new work queues behind 'c' rather than jumping it.
    pacer.run(() => ran.push('d'));
    expect(ran).toEqual(['a', 'b', 'slow']);
    expect(time.next()).toBe(true);
    expect(ran).toEqual(['a', 'b', 'slow', 'c', 'd']);
    expect(time.pending).toBe(0);
  });

  it('with idle time: runs work only in idle periods with room left, in order, within the budget, and when forced by the timeout', () => {
    const time = fakeTime();
    const idles: Array<(deadline: { didTimeout: boolean; timeRemaining(): number }) => void> = [];
    const pacer = new InboundPacer({ budgetMs: 4, periodMs: 16, now: time.now, defer: time.defer, idle: (fn) => void idles.push(fn) });
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) {
      pacer.run(() => {
        ran.push(i);
        time.spend(1);
      });
    }
    // Nothing runs on arrival: a message may come in a frame's last milliseconds.
    expect(ran).toEqual([]);
    expect(idles).toHaveLength(1);
    // An idle period with 2 ms left before the next frame: too little, asked again.
    let left = 2;
    idles.shift()?.({ didTimeout: false, timeRemaining: () => left });
    expect(ran).toEqual([]);
    expect(idles).toHaveLength(1);
    const start = time.now();
    // 6 ms left: work runs while 4 ms or more remain (1 ms each), so three pieces, then it asks again.
    left = 6;
    idles.shift()?.({ didTimeout: false, timeRemaining: () => left - (time.now() - start) });
    expect(ran).toEqual([0, 1, 2]);
    expect(idles).toHaveLength(1);
    // Forced by the timeout with no idle time at all: runs within the period's budget (4 ms, 3 spent), in order.
    idles.shift()?.({ didTimeout: true, timeRemaining: () => 0 });
    expect(ran).toEqual([0, 1, 2, 3]);
    expect(time.pending).toBe(1);
    while (time.next());
    idles.shift()?.({ didTimeout: false, timeRemaining: () => 16 });
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(pacer.waiting).toBe(0);
  });
});


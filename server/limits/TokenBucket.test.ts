import { describe, expect, it } from 'vitest';
import { TokenBucket } from './TokenBucket.ts';
import { FrameRateLimiter, frameKind } from './FrameRateLimiter.ts';

/** A clock the test moves by hand, in ms. */
function manualClock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

const takeAll = (bucket: TokenBucket, limit = 1_000_000): number => {
  let n = 0;
  while (n < limit && bucket.take()) n++;
  return n;
};

describe('TokenBucket', () => {
  it('starts full: exactly `capacity` takes succeed at one instant, then it refuses', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 200, refillPerSecond: 50, now: clock.now });
    expect(takeAll(bucket)).toBe(200);
    expect(bucket.take()).toBe(false);
  });

  it('refills continuously at refillPerSecond, including fractions of a token', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 50, now: clock.now });
    takeAll(bucket);
    clock.advance(19); // 0.95 of a token
    expect(bucket.take()).toBe(false);
    clock.advance(1); // 1.0 token (the failed take spent nothing)
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    clock.advance(100); // 5 tokens
    expect(takeAll(bucket)).toBe(5);
  });

  it('takes several tokens at once, or none, and says how long until it could', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 10, now: clock.now });
    expect(bucket.take(60)).toBe(true);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.available).toBe(40);
    expect(bucket.msUntilToken(50)).toBe(1000);
    clock.advance(1000);
    expect(bucket.take(50)).toBe(true);
  });

  it('never holds more than capacity, however long it was idle', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1000, now: clock.now });
    takeAll(bucket);
    clock.advance(86_400_000);
    expect(bucket.available).toBe(3);
    expect(takeAll(bucket)).toBe(3);
  });

  it('sustains exactly the refill rate over a long run', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 50, now: clock.now });
    takeAll(bucket);
    let granted = 0;
    for (let ms = 0; ms < 10_000; ms++) {
      clock.advance(1);
      if (bucket.take()) granted++;
    }
    expect(granted).toBe(500);
  });

  it('a clock stepping backwards refills nothing and does not drain', () => {
    const clock = manualClock(10_000);
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 1, now: clock.now });
    expect(bucket.take()).toBe(true);
    clock.set(0);
    expect(bucket.available).toBe(3);
    clock.advance(1000); // a second after the step back: one token more
    expect(bucket.available).toBe(4);
  });

  it('refuses nonsense settings', () => {
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: Number.NaN, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

describe('FrameRateLimiter', () => {
  const limits = { syncBurst: 3, syncPerSecond: 1, awarenessBurst: 5, awarenessPerSecond: 1 };
  const sync = new Uint8Array([0, 2, 2, 0, 0]);
  const awareness = new Uint8Array([1, 1, 0]);
  const queryAwareness = new Uint8Array([3]);

  it('sorts frames by their message type: sync frames apart from everything else', () => {
    expect(frameKind(sync)).toBe('sync');
    expect(frameKind(new Uint8Array([0, 0, 0]))).toBe('sync');
    expect(frameKind(awareness)).toBe('awareness');
    expect(frameKind(queryAwareness)).toBe('awareness');
    expect(frameKind(new Uint8Array([]))).toBe('awareness');
    expect(frameKind(new Uint8Array([0x80, 0x00]))).toBe('awareness');
  });

  it('keeps one bucket per kind: exhausting sync frames leaves awareness untouched, and back', () => {
    const clock = manualClock();
    const limiter = new FrameRateLimiter(limits, clock.now);
    for (let i = 0; i < 3; i++) expect(limiter.admit(sync)).toBeNull();
    expect(limiter.admit(sync)).toBe('sync');
    for (let i = 0; i < 5; i++) expect(limiter.admit(i % 2 ? awareness : queryAwareness)).toBeNull();
    expect(limiter.admit(awareness)).toBe('awareness');
    clock.advance(1000);
    expect(limiter.admit(sync)).toBeNull();
    expect(limiter.admit(awareness)).toBeNull();
    expect(limiter.admit(sync)).toBe('sync');
  });
});

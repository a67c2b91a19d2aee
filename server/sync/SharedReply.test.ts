import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedReply } from './SharedReply.ts';

describe('SharedReply', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const counting = () => {
    let calls = 0;
    return {
      encode: () => new Uint8Array([++calls]),
      get calls() {
        return calls;
      },
    };
  };

  it('encodes once for every asker until invalidated, and hands all of them the same buffer', () => {
    const reply = new SharedReply(5_000);
    const enc = counting();
    const first = reply.get(enc.encode);
    for (let i = 0; i < 200; i++) expect(reply.get(enc.encode)).toBe(first);
    expect(enc.calls).toBe(1);
    reply.invalidate();
    expect(reply.get(enc.encode)).toEqual(new Uint8Array([2]));
    expect(enc.calls).toBe(2);
    reply.close();
  });

  it('drops the reply after a quiet spell, and each asker extends it', () => {
    vi.useFakeTimers();
    const reply = new SharedReply(5_000);
    const enc = counting();
    reply.get(enc.encode);
    vi.advanceTimersByTime(4_000);
    reply.get(enc.encode);
    vi.advanceTimersByTime(4_000);
    expect(enc.calls).toBe(1);
    vi.advanceTimersByTime(1_001);
    reply.get(enc.encode);
    expect(enc.calls).toBe(2);
    reply.close();
  });

  it('caches nothing when encoding throws', () => {
    const reply = new SharedReply(5_000);
    expect(() =>
      reply.get(() => {
        throw new Error('malformed state vector');
      }),
    ).toThrow('malformed state vector');
    const enc = counting();
    reply.get(enc.encode);
    expect(enc.calls).toBe(1);
    reply.close();
  });
});

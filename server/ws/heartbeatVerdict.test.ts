import { describe, expect, it } from 'vitest';
import { heartbeatVerdict } from './heartbeatVerdict.ts';

describe('heartbeatVerdict', () => {
  it('keeps a socket that answered the last ping', () => {
    expect(heartbeatVerdict(true, 0, undefined)).toBe('keep');
    expect(heartbeatVerdict(true, 10_000_000, 10_000_000)).toBe('keep');
  });

  it('keeps a silent socket while it is still reading what was queued for it (a large first sync)', () => {
    expect(heartbeatVerdict(false, 5_000_000, 25_000_000)).toBe('keep');
  });

  it('drops a silent socket that read nothing since the last ping, or had nothing to read', () => {
    expect(heartbeatVerdict(false, 25_000_000, 25_000_000)).toBe('terminate');
    expect(heartbeatVerdict(false, 0, 0)).toBe('terminate');
    expect(heartbeatVerdict(false, 0, undefined)).toBe('terminate');
    expect(heartbeatVerdict(false, 1000, undefined)).toBe('terminate');
  });

  it('judges nothing on a heartbeat that came late after an event-loop stall (pongs not read yet), and judges the next one on time', () => {
    expect(heartbeatVerdict(false, 0, 0, 95_000, 30_000)).toBe('keep');
    expect(heartbeatVerdict(false, 0, 0, 30_500, 30_000)).toBe('terminate');
  });
});

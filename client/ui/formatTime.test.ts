import { describe, expect, it } from 'vitest';
import { clockTime, dayLabel, lastSeen, shortTime } from './format/formatTime.ts';

// Local-time helpers: build instants from local fields so the tests hold in any time zone.
const local = (y: number, mo: number, d: number, h = 12, mi = 0): number => new Date(y, mo - 1, d, h, mi).getTime();
const iso = (ms: number): string => new Date(ms).toISOString();
const NOW = local(2026, 11, 24, 15, 30);

describe('formatTime', () => {
  it('clockTime is zero-padded local hours and minutes', () => {
    expect(clockTime(iso(local(2026, 11, 24, 9, 5)))).toBe('09:05');
  });

  it('dayLabel says Today, Yesterday, else the date (with the year only when it differs)', () => {
    expect(dayLabel(iso(local(2026, 11, 24, 0, 1)), NOW)).toBe('Today');
    expect(dayLabel(iso(local(2026, 11, 23, 23, 59)), NOW)).toBe('Yesterday');
    expect(dayLabel(iso(local(2026, 11, 3)), NOW)).toBe('Tue 3 Nov');
    expect(dayLabel(iso(local(2025, 11, 3)), NOW)).toBe('Mon, 3 Nov 2025');
  });

  it('shortTime is the clock today, the weekday this week, the date before', () => {
    expect(shortTime(iso(local(2026, 11, 24, 8, 0)), NOW)).toBe('08:00');
    expect(shortTime(iso(local(2026, 11, 21)), NOW)).toBe('Sat');
    expect(shortTime(iso(local(2026, 10, 2)), NOW)).toBe('2 Oct');
  });

  it('lastSeen rounds down to minutes, hours, then days', () => {
    expect(lastSeen(null, NOW)).toBe('offline');
    expect(lastSeen(iso(NOW - 20_000), NOW)).toBe('last seen just now');
    expect(lastSeen(iso(NOW - 5 * 60_000 - 1), NOW)).toBe('last seen 5 min ago');
    expect(lastSeen(iso(NOW - 3 * 3_600_000), NOW)).toBe('last seen 3 h ago');
    expect(lastSeen(iso(local(2026, 11, 23, 1, 0)), NOW)).toBe('last seen yesterday');
    expect(lastSeen(iso(local(2026, 11, 3)), NOW)).toBe('last seen Tue 3 Nov');
  });
});

import { describe, expect, it } from 'vitest';
import { GROUP_GAP_MS, layoutMessages, readReceipts, type RowInput } from './format/messageRows.ts';

const day = (iso: string): string => iso.slice(0, 10);
const at = (minute: number, dayOfMonth = 1): string => new Date(Date.UTC(2026, 0, dayOfMonth, 10, minute)).toISOString();
const msg = (id: string, sender: string | null, created_at: string, message_type = 'text'): RowInput => ({ id, sender_id: sender, created_at, message_type });

describe('layoutMessages', () => {
  it('groups runs by one sender within the gap, and breaks them at a new day, a new sender, a system message or a long pause', () => {
    const rows = layoutMessages(
      [
        msg('a', 'ana', at(0)),
        msg('b', 'ana', at(1)),
        msg('c', 'ben', at(2)),
        msg('d', 'ben', at(2 + GROUP_GAP_MS / 60_000 + 1)),
        msg('e', null, at(30), 'system'),
        msg('f', 'ben', at(31)),
        msg('g', 'ben', at(0, 2)),
      ],
      day,
    );
    expect(rows.map((r) => r.groupStart)).toEqual([true, false, true, true, true, true, true]);
    expect(rows.map((r) => r.day)).toEqual(['2026-01-01', null, null, null, null, null, '2026-01-02']);
  });

  it('continues the group of the message before the page', () => {
    const [row] = layoutMessages([msg('b', 'ana', at(1))], day, msg('a', 'ana', at(0)));
    expect(row).toMatchObject({ groupStart: false, day: null });
  });
});

describe('readReceipts', () => {
  const visible = ['m2', 'm4', 'm6'];
  it('puts each reader at the newest visible message at or before their position, leaving out excluded users', () => {
    const receipts = readReceipts(
      new Map([
        ['ana', 'm4'],
        ['ben', 'm5'],
        ['cid', 'm9'],
        ['dan', 'm1'],
        ['me', 'm6'],
      ]),
      visible,
      new Set(['me']),
    );
    expect(Object.fromEntries(receipts)).toEqual({ m4: ['ana', 'ben'], m6: ['cid'] });
  });

  it('keeps a reader who replied under the newest message they read that is not their own', () => {
    const receipts = readReceipts(new Map([['ben', 'm6']]), visible, new Set(['me']), ['me', 'me', 'ben']);
    expect(Object.fromEntries(receipts)).toEqual({ m4: ['ben'] });
    // Nothing of anyone else before: no receipt.
    expect(readReceipts(new Map([['ben', 'm6']]), visible, new Set(), ['ben', 'ben', 'ben']).size).toBe(0);
  });

  it('is empty for an empty page', () => {
    expect(readReceipts(new Map([['ana', 'm1']]), [], new Set()).size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { LONG_MESSAGE_CHARS, LONG_MESSAGE_LINES, isLongMessage } from './longMessage.ts';

describe('isLongMessage', () => {
  it('collapses past the character limit', () => {
    expect(isLongMessage('x'.repeat(LONG_MESSAGE_CHARS))).toBe(false);
    expect(isLongMessage('x'.repeat(LONG_MESSAGE_CHARS + 1))).toBe(true);
  });

  it('collapses past the line limit, however short the lines', () => {
    const lines = (n: number): string => Array.from({ length: n }, (_, i) => `${i}`).join('\n');
    expect(isLongMessage(lines(LONG_MESSAGE_LINES))).toBe(false);
    expect(isLongMessage(lines(LONG_MESSAGE_LINES + 1))).toBe(true);
  });

  it('leaves ordinary messages alone', () => {
    expect(isLongMessage('')).toBe(false);
    expect(isLongMessage('Morning!\nThe new onboarding flow is ready.')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { JUMBO_MAX_EMOJI, isEmojiOnly } from './emojiOnly.ts';

describe('isEmojiOnly', () => {
  it('is true for one to a few emoji, whitespace allowed', () => {
    for (const text of ['🎉', ' 👍 ', '🎉🚀', '🙌\n🙌', '❤️', '👍🏽', '🧑🏽‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇵🇹', '1️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '❤️‍🔥 😀 😀']) {
      expect(isEmojiOnly(text), text).toBe(true);
    }
  });

  it('is false with any other character, for none, or for more than a few', () => {
    for (const text of ['', '   ', 'ok 👍', '👍!', ':)', '123', '#', '©', '™', '*', '`🎉`', '**🎉**', '🎉'.repeat(JUMBO_MAX_EMOJI + 1)]) {
      expect(isEmojiOnly(text), text).toBe(false);
    }
  });

  it('counts a ZWJ sequence, a flag or a skin tone as one emoji', () => {
    const three = '👨‍👩‍👧‍👦🇵🇹👍🏽';
    expect(JUMBO_MAX_EMOJI).toBe(3);
    expect(isEmojiOnly(three)).toBe(true);
    expect(isEmojiOnly(three + '🎉')).toBe(false);
  });
});

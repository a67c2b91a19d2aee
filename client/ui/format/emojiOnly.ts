/** Up to this many emoji alone in a message render large, as in WhatsApp, Telegram and iMessage. */
export const JUMBO_MAX_EMOJI = 3;

/*
 * One emoji as people type it: a flag (two regional indicators), a keycap, or a pictograph that is
 * an emoji by default or asked to be one with U+FE0F (so a lone © or ™ stays text), with an
 * optional skin tone, joined to more pictographs by ZWJ, and an optional tag sequence (the
 * subdivision flags). Unicode properties, not code point ranges, so new emoji need no change.
 */
const EMOJI = String.raw`(?:\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3|(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F)\p{Emoji_Modifier}?\uFE0F?(?:\u200D\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?\uFE0F?)*(?:[\u{E0020}-\u{E007E}]+\u{E007F})?)`;
const EMOJI_ONLY = new RegExp(String.raw`^\s*(?:${EMOJI}\s*){1,${JUMBO_MAX_EMOJI}}$`, 'u');

/** The longest a few emoji with whitespace can be (a family ZWJ sequence is 11 code units). */
const MAX_LENGTH = 100;

/** The message is 1 to JUMBO_MAX_EMOJI emoji and whitespace, nothing else. */
export function isEmojiOnly(text: string): boolean {
  return text.length <= MAX_LENGTH && EMOJI_ONLY.test(text);
}

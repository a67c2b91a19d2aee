/// <reference types="vite/client" />
import type Picker from 'emoji-picker-element/picker';
// Served by this app (content-hashed under /assets/, precached by the service worker), never by
// the library's default CDN: the app must work offline and talk to its own origin only.
import dataSource from 'emoji-picker-element-data/en/emojibase/data.json?url';

/** The emoji data's language; the library names its IndexedDB database after it. */
export const EMOJI_LOCALE = 'en';

/**
 * A new `<emoji-picker>` on the self-hosted data. The library (about 38 kB) is imported on the
 * first call, so opening the app or a room never loads it; later calls reuse the loaded module.
 */
export async function createEmojiPicker(): Promise<Picker> {
  const { default: EmojiPicker } = await import('emoji-picker-element/picker');
  return new EmojiPicker({ dataSource, locale: EMOJI_LOCALE });
}

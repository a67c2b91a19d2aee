import { EMOJI_LOCALE } from './createEmojiPicker.ts';
import { forgetRecentReactions } from './recentReactions.ts';

/**
 * emoji-picker-element's own IndexedDB database (named by the library after the locale): its copy
 * of the emoji data, the favourites it counts and the preferred skin tone.
 */
const PICKER_DATABASE = `emoji-picker-element-${EMOJI_LOCALE}`;

/**
 * Forgets which emoji this device's user picked: the recent reactions and the picker's database.
 * The database is deleted by name, not through the library's `Database.delete()`, which would
 * first download and index the data it is about to delete. It resolves once no tab holds the
 * database open (the picker closes it when it leaves the page).
 */
export function forgetEmojiHistory(): Promise<void> {
  forgetRecentReactions();
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(PICKER_DATABASE);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`deleting ${PICKER_DATABASE} failed`));
  });
}

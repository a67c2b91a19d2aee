/*
 * Decided from the source text, not by measuring: the message list renders up to 200 rows and
 * re-renders often, and reading every row's height would force a layout per row. A long message
 * is clamped by CSS (COLLAPSED_LINES) until the reader asks for the rest.
 */

/** Longer than this many characters: collapsed. About 15 lines of a desktop-width row. */
export const LONG_MESSAGE_CHARS = 1_500;
/** More source lines than this: collapsed. */
export const LONG_MESSAGE_LINES = 20;
/** How many lines of a collapsed message show (the CSS max-height is this many line heights). */
export const COLLAPSED_LINES = 12;

/** The message shows collapsed with "Show more". */
export function isLongMessage(text: string): boolean {
  if (text.length > LONG_MESSAGE_CHARS) return true;
  let newlines = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    if (++newlines >= LONG_MESSAGE_LINES) return true;
  }
  return false;
}

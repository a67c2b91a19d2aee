const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * The date formats, made once: `toLocaleDateString` with options builds an Intl.DateTimeFormat
 * on every call (about 100 times the cost of formatting with one kept), and the message list
 * labels days for every row it lays out.
 */
const DAY_FORMAT = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
const DAY_YEAR_FORMAT = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
const WEEKDAY_FORMAT = new Intl.DateTimeFormat('en-GB', { weekday: 'short' });
const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });

/** A number naming the viewer's local calendar day of `iso`: equal for two times on the same day. */
export function localDayKey(iso: string): number {
  const d = new Date(iso);
  return d.getFullYear() * 10_000 + d.getMonth() * 100 + d.getDate();
}

/** "14:05": the time of a message, in the viewer's local time. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const sameDay = (a: Date, b: Date): boolean => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** "Today", "Yesterday", or "Mon 3 Nov" (with the year when it is not this year): day separators. */
export function dayLabel(iso: string, now: number = Date.now()): string {
  const d = new Date(iso);
  const today = new Date(now);
  if (sameDay(d, today)) return 'Today';
  if (sameDay(d, new Date(now - DAY))) return 'Yesterday';
  return (d.getFullYear() === today.getFullYear() ? DAY_FORMAT : DAY_YEAR_FORMAT).format(d);
}

/** The room list's short time: the clock today, the weekday this week, else the date. */
export function shortTime(iso: string, now: number = Date.now()): string {
  const d = new Date(iso);
  if (sameDay(d, new Date(now))) return clockTime(iso);
  if (now - d.getTime() < 6 * DAY) return WEEKDAY_FORMAT.format(d);
  return DATE_FORMAT.format(d);
}

/** "last seen 5 min ago": presence for someone offline; "never seen" when the server has no record. */
export function lastSeen(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return 'offline';
  const ago = Math.max(0, now - Date.parse(iso));
  if (ago < MINUTE) return 'last seen just now';
  if (ago < HOUR) return `last seen ${Math.floor(ago / MINUTE)} min ago`;
  if (ago < DAY) return `last seen ${Math.floor(ago / HOUR)} h ago`;
  return `last seen ${dayLabel(iso, now).toLowerCase() === 'yesterday' ? 'yesterday' : dayLabel(iso, now)}`;
}

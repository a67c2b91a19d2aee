const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad = (n: number): string => String(n).padStart(2, '0');

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
  const options: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short' };
  if (d.getFullYear() !== today.getFullYear()) options.year = 'numeric';
  return d.toLocaleDateString('en-GB', options);
}

/** The room list's short time: the clock today, the weekday this week, else the date. */
export function shortTime(iso: string, now: number = Date.now()): string {
  const d = new Date(iso);
  if (sameDay(d, new Date(now))) return clockTime(iso);
  if (now - d.getTime() < 6 * DAY) return d.toLocaleDateString('en-GB', { weekday: 'short' });
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
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

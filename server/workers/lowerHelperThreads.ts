import { readFileSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setPriority } from 'node:os';

/** The nice value of thread `tid` of this process (Linux /proc), null when it cannot be read. */
export function threadNice(tid: number): number | null {
  try {
    const line = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Field 2 (the thread's name) is in parentheses and may hold spaces: count from after it.
    // What follows starts at field 3 (state); nice is field 19.
    const nice = Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[16]);
    return Number.isInteger(nice) ? nice : null;
  } catch {
    return null;
  }
}

/** This process's thread ids (Linux), main thread included. */
export function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}

/**
 * Lowers every helper thread of the process to nice `nice` (default 19, the lowest priority): V8's
 * platform threads (concurrent marking and sweeping, parallel scavenges, background compiles) and
 * libuv's pool (started first, so that it exists). At the default priority they take the CPU from
 * the main thread whenever both want it, and on a machine whose cores are all busy every commit,
 * relay and acknowledgement then waits for them: with the server on one core, a small room's
 * fan-out p99 next to a big room being read fell from 16.0 to 11.1 ms and the group commit's p99
 * from 4.0 to 1.7 ms with those threads moved off the main thread's core (README, "Large rooms").
 * A helper the main thread waits for (a parallel scavenge's) still runs: the main thread is then
 * waiting, not running. The trade-off: the pool's work the main thread awaits (attachment files,
 * a token's first HMAC check, a DNS lookup) now yields to every busy process of the machine, not
 * only to the event loop, so on a host whose cores other software keeps busy it waits longer.
 * The main thread, and threads already set apart (the storage and search workers lower
 * themselves), keep their priority. Linux only (elsewhere setpriority
 * applies to the whole process); a refusal (a locked-down container) leaves the priority as it
 * was. Returns how many threads were lowered. `parley serve` calls it before starting; a host
 * embedding createParleyServer may call it for its own process.
 */
export async function lowerHelperThreads(nice = 19): Promise<number> {
  if (process.platform !== 'linux') return 0;
  // libuv starts its whole pool on its first task.
  await stat(process.cwd()).catch(() => undefined);
  const mainNice = threadNice(process.pid);
  if (mainNice === null) return 0;
  let lowered = 0;
  for (const tid of threadIds()) {
    if (tid === process.pid || threadNice(tid) !== mainNice) continue;
    try {
      setPriority(tid, Math.max(nice, mainNice));
      lowered++;
    } catch {
      // Not permitted: this thread keeps its priority.
    }
  }
  return lowered;
}

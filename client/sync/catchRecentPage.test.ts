import { afterEach, describe, expect, it, vi } from 'vitest';
import { Emitter } from '../events/Emitter.ts';
import type { MessageView } from '../../shared/roomDoc/messageView.ts';
import type { ConnectionEvents } from './connectionTypes.ts';
import { catchRecentPage } from './catchRecentPage.ts';

/** Only what catchRecentPage listens to: a connection's events. */
const connection = (): Emitter<ConnectionEvents> => new Emitter<ConnectionEvents>();
const page = (id: string): MessageView[] => [{ id } as MessageView];

describe('catchRecentPage', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps the first page that arrives, ending a wait for it; a later one is ignored, and end() awaits the keeping', async () => {
    const events = connection();
    const kept: string[] = [];
    let stored!: () => void;
    const recent = catchRecentPage(events, async (messages) => {
      kept.push(messages[0]?.id ?? '');
      await new Promise<void>((resolve) => (stored = resolve));
    });
    const waited = recent.arrival(60_000);
    events.emit('recent', page('a'));
    await waited;
    events.emit('recent', page('b'));
    expect(kept).toEqual(['a']);
    let ended = false;
    const ending = recent.end().then(() => (ended = true));
    // Every microtask run (a macrotask later): end() still waits for the page being stored.
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    stored();
    await ending;
    events.emit('recent', page('c'));
    expect(kept).toEqual(['a']);
  });

  it('ends a wait when cut, when the connection goes offline, and at its timeout, keeping nothing', async () => {
    vi.useFakeTimers();
    const keep = vi.fn(async () => undefined);
    const cutOne = catchRecentPage(connection(), keep);
    const cutWait = cutOne.arrival(60_000);
    cutOne.cut();
    await cutWait;
    // Cut before it waits: it does not wait at all.
    await cutOne.arrival(60_000);

    const events = connection();
    const offline = catchRecentPage(events, keep);
    const offlineWait = offline.arrival(60_000);
    events.emit('state', 'connecting');
    events.emit('state', 'offline');
    await offlineWait;

    const timed = catchRecentPage(connection(), keep);
    let over = false;
    const timedWait = timed.arrival(2_000).then(() => (over = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(over).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await timedWait;
    expect(keep).not.toHaveBeenCalled();
  });
});

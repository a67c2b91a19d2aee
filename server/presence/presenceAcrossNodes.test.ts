import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { PresenceChanges } from './PresenceChanges.ts';
import { type OtherNodes, type PresenceChange, PresenceTracker } from './PresenceTracker.ts';

/** The other nodes as a test sets them: who is online there, and what this node told them. */
function otherNodes(): OtherNodes & { online: Set<string>; told: Array<[string, boolean | 'status']> } {
  const online = new Set<string>();
  const told: Array<[string, boolean | 'status']> = [];
  return {
    online,
    told,
    onlineElsewhere: (userId) => online.has(userId),
    local: (userId, isOnline) => void told.push([userId, isOnline]),
    statusChanged: (userId) => void told.push([userId, 'status']),
  };
}

const shape = (c: PresenceChange) => ({ userId: c.userId, online: c.online, cause: c.cause, storeLastSeen: c.storeLastSeen });

describe('PresenceTracker as one node of several', () => {
  it('announces only cluster-wide transitions, tells the other nodes of its own, and stores last seen on the node whose last connection closed', () => {
    const tracker = new PresenceTracker();
    const others = otherNodes();
    tracker.joinCluster(others);
    const heard: PresenceChange[] = [];
    tracker.on((change) => heard.push(change));

    // Ana comes online elsewhere: online here too.
    others.online.add('ana');
    tracker.elsewhere('ana');
    expect(tracker.isOnline('ana')).toBe(true);
    // She connects here as well: the others are told, nobody hears a second "online".
    const closeHere = tracker.connect('ana');
    // She leaves the other node: still online here, so no change.
    others.online.delete('ana');
    tracker.elsewhere('ana');
    // Her last connection anywhere closes here: this node stores her last seen.
    closeHere();
    expect(tracker.isOnline('ana')).toBe(false);
    expect(others.told).toEqual([
      ['ana', true],
      ['ana', false],
    ]);
    expect(heard.map(shape)).toEqual([
      { userId: 'ana', online: true, cause: 'connected', storeLastSeen: undefined },
      { userId: 'ana', online: false, cause: 'disconnected', storeLastSeen: undefined },
    ]);

    // Ben: online and offline on another node only; that node stores his last seen, this one does not.
    heard.length = 0;
    others.online.add('ben');
    tracker.elsewhere('ben');
    others.online.delete('ben');
    tracker.elsewhere('ben');
    // Cai's node dies: the survivors store his last seen.
    others.online.add('cai');
    tracker.elsewhere('cai');
    others.online.delete('cai');
    tracker.elsewhere('cai', { nodeLost: true });
    expect(heard.map(shape)).toEqual([
      { userId: 'ben', online: true, cause: 'connected', storeLastSeen: undefined },
      { userId: 'ben', online: false, cause: 'disconnected', storeLastSeen: false },
      { userId: 'cai', online: true, cause: 'connected', storeLastSeen: undefined },
      { userId: 'cai', online: false, cause: 'disconnected', storeLastSeen: true },
    ]);
  });

  it("tells the other nodes of a status change here, and announces theirs without telling them back", () => {
    const tracker = new PresenceTracker();
    const others = otherNodes();
    tracker.joinCluster(others);
    const heard: PresenceChange[] = [];
    tracker.on((change) => heard.push(change));
    tracker.statusChanged('ana');
    tracker.statusChangedElsewhere('ben');
    expect(others.told).toEqual([['ana', 'status']]);
    expect(heard.map((c) => [c.userId, c.cause])).toEqual([
      ['ana', 'status'],
      ['ben', 'status'],
    ]);
  });

  it('stores last seen for a disconnection unless another node does (storeLastSeen: false), and tells the listeners either way', async () => {
    const stored: string[] = [];
    const told: string[] = [];
    const changes = new PresenceChanges({
      directory: { presence: { setLastSeen: async (userId: string) => void stored.push(userId) } },
      logger: pino({ level: 'silent' }),
      tell: (userId) => void told.push(userId),
    });
    changes.changed({ userId: 'ana', online: false, at: 1, cause: 'disconnected' });
    changes.changed({ userId: 'ben', online: false, at: 1, cause: 'disconnected', storeLastSeen: false });
    changes.changed({ userId: 'cai', online: false, at: 1, cause: 'disconnected', storeLastSeen: true });
    await changes.close();
    expect(stored).toEqual(['ana', 'cai']);
    expect(told.sort()).toEqual(['ana', 'ben', 'cai']);
  });
});

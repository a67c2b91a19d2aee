import { describe, expect, it } from 'vitest';
import { uuidv4 } from '../../shared/ids.ts';
import type { ChannelRoute, ChannelRouter, ForwardHandlers } from '../sync/ChannelRouter.ts';
import type { DirectoryApi } from '../storage/DirectoryApi.ts';
import { AccessGuard } from '../access/AccessGuard.ts';
import { createLogger } from '../log.ts';
import { CommandConnection } from './CommandConnection.ts';
import { CommandRoutes } from './CommandRoutes.ts';
import { parseCommandFrame } from './parseCommandFrame.ts';

const text = new TextEncoder();
const read = new TextDecoder();

/**
 * Where a connection's commands go, against a scripted router and directory (docs/scale-out.md,
 * "Routing"); over real nodes: server/routing/clusterCommands.test.ts.
 */
function harness(options: { linked?: boolean } = {}) {
  const member = new Set<string>();
  const owners = new Map<string, string>();
  const routed: string[] = [];
  const opened: Array<{ owner: string; sent: Array<Record<string, unknown>>; handlers: ForwardHandlers }> = [];
  // Only what checkRoomAccess reads.
  const directory = {
    rooms: { get: (roomId: string) => Promise.resolve(member.has(roomId) || owners.has(roomId) ? { is_active: true } : null) },
    members: { get: (roomId: string) => Promise.resolve(member.has(roomId) ? { is_active: true, role: 'member' } : null) },
  } as unknown as DirectoryApi;
  const router: ChannelRouter = {
    route: (roomId): Promise<ChannelRoute> => {
      routed.push(roomId);
      const owner = owners.get(roomId);
      if (owner === undefined) return Promise.resolve({ kind: 'local' });
      const open = (_user: unknown, handlers: ForwardHandlers) => {
        const channel = { owner, sent: [] as Array<Record<string, unknown>>, handlers };
        opened.push(channel);
        return { send: (body: Uint8Array) => void channel.sent.push(JSON.parse(read.decode(body)) as Record<string, unknown>), close: () => {} };
      };
      return Promise.resolve({ kind: 'remote', owner, open, openCommands: open });
    },
  };
  const toBot: string[] = [];
  const conn = new CommandConnection({ closed: false, send: (frame) => void toBot.push(frame), close: () => {} }, { id: uuidv4(), name: 'Bot' }, 1);
  const routes = new CommandRoutes({ router, access: new AccessGuard(directory), conn, logger: createLogger('silent'), linked: options.linked ?? false });
  const take = async (frame: Record<string, unknown>) => {
    const parsed = parseCommandFrame(text.encode(JSON.stringify(frame)), 1 << 20);
    if (!parsed.ok) throw new Error(parsed.data.message);
    return routes.take(parsed.command, parsed.requestId);
  };
  return { member, owners, routed, opened, routes, take };
}

describe('CommandRoutes', () => {
  it('routes a room once, after its membership check, through one channel per owner, until owner_unavailable or the channel ends', async () => {
    const h = harness();
    const [here, there, also, closed] = [uuidv4(), uuidv4(), uuidv4(), uuidv4()];
    for (const room of [here, there, also]) h.member.add(room);
    h.owners.set(there, 'node-1').set(also, 'node-1').set(closed, 'node-1');
    expect(await h.take({ command: 'fetch_pinned', room_id: here })).toEqual({ kind: 'local' });
    expect(await h.take({ command: 'fetch_pinned', room_id: here })).toEqual({ kind: 'local' });
    for (const room of [there, also, there]) expect(await h.take({ command: 'fetch_pinned', room_id: room })).toEqual({ kind: 'forwarded' });
    // A room the user may not open is refused here, and never routed (no lease taken for it).
    expect(await h.take({ command: 'send_message', room_id: closed, data: { content: 'x' } })).toMatchObject({ kind: 'refused', failure: { code: 'not_a_member' } });
    expect(h.routed).toEqual([here, there, also]);
    expect(h.opened).toHaveLength(1);
    expect(h.opened[0]!.sent.map((f) => f.data)).toEqual([{ room_id: there }, { room_id: also }, { room_id: there }]);

    // owner_unavailable (here or from the owner): the room is routed afresh.
    h.routes.answered(here, 'owner_unavailable');
    h.owners.set(here, 'node-2');
    expect(await h.take({ command: 'fetch_pinned', room_id: here })).toEqual({ kind: 'forwarded' });
    expect(h.opened.map((c) => c.owner)).toEqual(['node-1', 'node-2']);
    // A channel that ends takes its rooms' routes with it: a new channel at the next command.
    h.opened[0]!.handlers.closed(4504, 'OwnerUnavailable', 'gone');
    expect(await h.take({ command: 'fetch_pinned', room_id: also })).toEqual({ kind: 'forwarded' });
    expect(h.opened.map((c) => c.owner)).toEqual(['node-1', 'node-2', 'node-1']);
    expect(h.routed).toEqual([here, there, also, here, also]);
  });

  it('leave_room goes where the room was joined, needing no membership; else it is local', async () => {
    const h = harness();
    const room = uuidv4();
    h.member.add(room);
    h.owners.set(room, 'node-1');
    expect(await h.take({ command: 'join_room', room_id: room })).toEqual({ kind: 'forwarded' });
    h.opened[0]!.handlers.frame(text.encode(JSON.stringify({ type: 'join_room', success: true, error: null, data: {}, request_id: 1 })));
    h.member.delete(room);
    expect(await h.take({ command: 'leave_room', room_id: room })).toEqual({ kind: 'forwarded' });
    expect(await h.take({ command: 'leave_room', room_id: uuidv4() })).toEqual({ kind: 'local' });
  });

  it('a leave_room right behind a forwarded join_room goes to the owner too, before the join is answered', async () => {
    const h = harness();
    const room = uuidv4();
    h.member.add(room);
    h.owners.set(room, 'node-1');
    expect(await h.take({ command: 'join_room', room_id: room })).toEqual({ kind: 'forwarded' });
    expect(await h.take({ command: 'leave_room', room_id: room })).toEqual({ kind: 'forwarded' });
    expect(h.opened[0]!.sent.map((f) => f.command)).toEqual(['join_room', 'leave_room']);
  });

  it('opens no channel for a command still being routed when the connection closed', async () => {
    const h = harness();
    const room = uuidv4();
    h.member.add(room);
    h.owners.set(room, 'node-1');
    // The bot sends, then its socket closes while the membership check is awaited.
    const taking = h.take({ command: 'join_room', room_id: room });
    h.routes.end();
    expect(await taking).toMatchObject({ kind: 'refused' });
    expect(await h.take({ command: 'fetch_pinned', room_id: room })).toMatchObject({ kind: 'refused' });
    expect(h.opened).toHaveLength(0);
  });

  it('on the owner, a linked connection is never forwarded again: a room another node owns is answered owner_unavailable', async () => {
    const h = harness({ linked: true });
    const [mine, theirs] = [uuidv4(), uuidv4()];
    h.member.add(mine).add(theirs);
    h.owners.set(theirs, 'node-3');
    expect(await h.take({ command: 'fetch_pinned', room_id: mine })).toEqual({ kind: 'local' });
    expect(await h.take({ command: 'fetch_pinned', room_id: theirs })).toMatchObject({ kind: 'refused', failure: { code: 'owner_unavailable' } });
    expect(h.opened).toHaveLength(0);
  });
});

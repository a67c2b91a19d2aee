import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import type * as awarenessProtocol from 'y-protocols/awareness';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction } from '../../shared/roomDoc/reactionOps.ts';
import { markRead, readPositions } from '../../shared/roomDoc/readOps.ts';
import { getMessage } from '../../shared/roomDoc/queries.ts';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import { RoomEventSchemas } from '../../shared/commands/roomEvent.ts';
import { PeerStateSchema } from '../../shared/protocol/awarenessStates.ts';
import type { WebSocketResponse } from '../../shared/commands/webSocketResponse.ts';
import { connectProvider, startWithRoom, synced, untilDoc, type TwoMemberRoom } from '../../test/support/serverHarness.ts';
import { CommandClient } from '../../test/support/commandClient.ts';
import { awarenessFrame } from '../../test/support/syncFrames.ts';

/*
 * A JSON command client (Ana, the owner) and a stock y-websocket client (Ben) chat in one room:
 * each sees the other's messages, edits, deletions, reactions, read positions and typing.
 */
let s: TwoMemberRoom;
let json: CommandClient;
let provider: WebsocketProvider;
let benActor: Actor;

beforeEach(async () => {
  s = await startWithRoom();
  json = await CommandClient.connect(s.t, s.ana);
  const joined = await json.request('join_room', { room_id: s.roomId });
  expect(joined.success).toBe(true);
  provider = connectProvider(s.t, s.roomId, s.ben, new Y.Doc());
  await synced(provider);
  benActor = { userId: s.ben.id, role: 'member' };
});
afterEach(async () => {
  provider.destroy();
  await json.close();
  await s.t.dispose();
});

const data = (r: WebSocketResponse) => r.data;

function untilAwareness(awareness: awarenessProtocol.Awareness, predicate: (states: Map<number, unknown>) => boolean): Promise<void> {
  if (predicate(awareness.getStates())) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!predicate(awareness.getStates())) return;
      awareness.off('change', check);
      resolve();
    };
    awareness.on('change', check);
  });
}

const typingIn = (states: Map<number, unknown>, userId: string): boolean =>
  [...states.values()].some((raw) => {
    const state = PeerStateSchema.safeParse(raw);
    return state.success && state.data.user.id === userId && state.data.typing === true;
  });

describe('a JSON client and a stock y-websocket client in one room', () => {
  it('see each other’s messages, edits, reactions, read positions and deletions', async () => {
    const doc = provider.doc;

    // Yjs -> JSON: a message.
    const created = createMessage(doc, benActor, { content: 'from yjs' });
    if (!created.ok) throw new Error(created.message);
    const benMsg = RoomEventSchemas.message_created.parse(data(await json.event('message_created'))).message;
    expect(benMsg).toMatchObject({ id: created.id, content: 'from yjs', sender_id: s.ben.id, sender_name: 'Ben' });

    // JSON -> Yjs: a message.
    const sent = CommandAnswerSchemas.send_message.parse(data(await json.request('send_message', { room_id: s.roomId, content: 'from json' }))).message;
    await untilDoc(doc, (d) => getMessage(d, sent.id)?.content === 'from json');
    expect(getMessage(doc, sent.id)?.senderId).toBe(s.ana.id);

    // Edits both ways.
    expect(editMessage(doc, benActor, { id: created.id, content: 'yjs edited' }).ok).toBe(true);
    const edited = RoomEventSchemas.message_edited.parse(data(await json.event('message_edited'))).message;
    expect(edited).toMatchObject({ id: created.id, content: 'yjs edited', is_edited: true });
    await json.request('edit_message', { room_id: s.roomId, message_id: sent.id, content: 'json edited' });
    await untilDoc(doc, (d) => getMessage(d, sent.id)?.content === 'json edited');

    // Reactions both ways.
    expect(addReaction(doc, benActor, { messageId: sent.id, reaction: '🎉' }).ok).toBe(true);
    const reacted = RoomEventSchemas.reaction_added.parse(data(await json.event('reaction_added')));
    expect(reacted).toMatchObject({ message_id: sent.id, user_id: s.ben.id, reaction: '🎉', reactions: { '🎉': [s.ben.id] } });
    await json.request('add_reaction', { room_id: s.roomId, message_id: created.id, reaction: '👍' });
    await untilDoc(doc, (d) => getMessage(d, created.id)?.reactions['👍']?.[0] === s.ana.id);

    // Read positions both ways.
    expect(markRead(doc, benActor, sent.id).ok).toBe(true);
    const read = RoomEventSchemas.read_position_moved.parse(data(await json.event('read_position_moved')));
    expect(read).toMatchObject({ user_id: s.ben.id, last_read_id: sent.id });
    await json.request('read_messages', { room_id: s.roomId, last_read_id: sent.id });
    await untilDoc(doc, (d) => readPositions(d).get(s.ana.id) === sent.id);

    // Deletions both ways (Ana is the owner: she may delete Ben's message too).
    expect(deleteMessage(doc, benActor, { id: created.id }).ok).toBe(true);
    const deleted = RoomEventSchemas.message_deleted.parse(data(await json.event('message_deleted')));
    expect(deleted).toMatchObject({ message_id: created.id, deleted_by: s.ben.id, message: { is_deleted: true, content: '' } });
    await json.request('delete_message', { room_id: s.roomId, message_id: sent.id });
    await untilDoc(doc, (d) => getMessage(d, sent.id)?.deletedAt !== null);
    expect(getMessage(doc, sent.id)?.deletedBy).toBe(s.ana.id);
  });

  it('see each other typing, and the JSON client sees presence', async () => {
    const online = RoomEventSchemas.presence_changed.parse(data(await json.event('presence_changed', (d) => {
      const p = RoomEventSchemas.presence_changed.safeParse(d);
      return p.success && p.data.presence.user_id === s.ben.id && p.data.presence.is_online;
    })));
    expect(online.presence.is_online).toBe(true);

    provider.awareness.setLocalState({ user: { id: s.ben.id, name: 'Ben' }, typing: true });
    expect(data(await json.event('typing_started'))).toEqual({ room_id: s.roomId, user_id: s.ben.id, user_name: 'Ben' });
    provider.awareness.setLocalStateField('typing', false);
    expect(data(await json.event('typing_stopped'))).toEqual({ room_id: s.roomId, user_id: s.ben.id, user_name: 'Ben' });

    await json.request('typing_start', { room_id: s.roomId });
    await untilAwareness(provider.awareness, (states) => typingIn(states, s.ana.id));
    await json.request('typing_stop', { room_id: s.roomId });
    await untilAwareness(provider.awareness, (states) => !typingIn(states, s.ana.id));

    provider.destroy();
    const offline = await json.event('presence_changed', (d) => {
      const p = RoomEventSchemas.presence_changed.safeParse(d);
      return p.success && p.data.presence.user_id === s.ben.id && !p.data.presence.is_online;
    });
    expect(RoomEventSchemas.presence_changed.parse(data(offline)).presence.last_seen_at).not.toBeNull();
  });

  it('a command client that leaves disappears from the Yjs clients’ awareness', async () => {
    await json.request('typing_start', { room_id: s.roomId });
    await untilAwareness(provider.awareness, (states) => typingIn(states, s.ana.id));
    await json.request('leave_room', { room_id: s.roomId });
    await untilAwareness(provider.awareness, (states) =>
      ![...states.values()].some((raw) => PeerStateSchema.safeParse(raw).data?.user.id === s.ana.id),
    );
  });
});

describe('awareness entries of command clients', () => {
  it('cannot be overwritten by a Yjs client', async () => {
    await json.request('typing_start', { room_id: s.roomId });
    await untilAwareness(provider.awareness, (states) => typingIn(states, s.ana.id));
    const [clientId] = [...provider.awareness.getStates()].find(([, raw]) => PeerStateSchema.safeParse(raw).data?.user.id === s.ana.id) ?? [];
    if (clientId === undefined) throw new Error('no awareness entry for the command client');
    const clock = provider.awareness.meta.get(clientId)?.clock ?? 0;
    provider.ws?.send(awarenessFrame([{ clientId, clock: clock + 1, state: { user: { id: s.ana.id, name: 'Ana' }, typing: false } }]));
    // Ben's own change, sent after the spoof on the same socket, marks when the server has judged both.
    provider.awareness.setLocalState({ user: { id: s.ben.id, name: 'Ben' }, typing: true });
    await json.event('typing_started', (d) => d.user_id === s.ben.id);
    const room = s.t.server.registry.get(s.roomId);
    expect(PeerStateSchema.parse(room?.awareness.getStates().get(clientId)).typing).toBe(true);
    expect(json.pending().some((e) => e.type === 'typing_stopped' && e.data.user_id === s.ana.id)).toBe(false);
  });
});

describe('event order', () => {
  const DOC_EVENTS = new Set(['message_created', 'message_edited', 'message_deleted', 'reaction_added', 'reaction_removed', 'read_position_moved']);

  async function docEvents(n: number): Promise<WebSocketResponse[]> {
    const out: WebSocketResponse[] = [];
    while (out.length < n) {
      const e = await json.anyEvent();
      if (DOC_EVENTS.has(e.type)) out.push(e);
    }
    return out;
  }

  it('follows the order of the Yjs client’s changes', async () => {
    const doc = provider.doc;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = createMessage(doc, benActor, { content: `n${i}` });
      if (!r.ok) throw new Error(r.message);
      ids.push(r.id);
      if (i % 3 === 1) editMessage(doc, benActor, { id: r.id, content: `n${i} edited` });
      if (i % 4 === 2) addReaction(doc, benActor, { messageId: r.id, reaction: '👍' });
      if (i % 5 === 3) deleteMessage(doc, benActor, { id: r.id });
    }
    markRead(doc, benActor, ids[19] ?? '');
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      expected.push(`message_created ${ids[i]}`);
      if (i % 3 === 1) expected.push(`message_edited ${ids[i]}`);
      if (i % 4 === 2) expected.push(`reaction_added ${ids[i]}`);
      if (i % 5 === 3) expected.push(`message_deleted ${ids[i]}`);
    }
    expected.push(`read_position_moved ${ids[19]}`);
    const events = await docEvents(expected.length);
    const idOf = (e: WebSocketResponse): unknown =>
      e.type === 'message_created' || e.type === 'message_edited' ? RoomEventSchemas.message_created.parse(e.data).message.id : e.type === 'read_position_moved' ? e.data.last_read_id : e.data.message_id;
    expect(events.map((e) => `${e.type} ${String(idOf(e))}`)).toEqual(expected);
  });

  it('follows the order of commands sent without waiting for their answers', async () => {
    const first = CommandAnswerSchemas.send_message.parse(data(await json.request('send_message', { room_id: s.roomId, content: 'base' }))).message;
    await json.event('message_created');
    const answers = [
      json.request('edit_message', { room_id: s.roomId, message_id: first.id, content: 'e1' }),
      json.request('add_reaction', { room_id: s.roomId, message_id: first.id, reaction: '+1' }),
      json.request('send_message', { room_id: s.roomId, content: 'second' }),
      json.request('remove_reaction', { room_id: s.roomId, message_id: first.id, reaction: '+1' }),
      json.request('edit_message', { room_id: s.roomId, message_id: first.id, content: 'e2' }),
      json.request('delete_message', { room_id: s.roomId, message_id: first.id }),
    ];
    const results = await Promise.all(answers);
    expect(results.every((r) => r.success)).toBe(true);
    const events = await docEvents(6);
    expect(events.map((e) => e.type)).toEqual(['message_edited', 'reaction_added', 'message_created', 'reaction_removed', 'message_edited', 'message_deleted']);
    expect(RoomEventSchemas.message_edited.parse(events[0]?.data).message.content).toBe('e1');
    expect(RoomEventSchemas.message_edited.parse(events[4]?.data).message.content).toBe('e2');
  });
});

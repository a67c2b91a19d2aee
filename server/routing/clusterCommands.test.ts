import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { uuidv4, uuidv7 } from '../../shared/ids.ts';
import { CommandAnswerSchemas } from '../../shared/commands/commandAnswers.ts';
import type { WebSocketResponse } from '../../shared/commands/webSocketResponse.ts';
import { type ClusterNode, type TestCluster, startCluster, clusterSuiteName, clusterTestsRun } from '../../test/support/cluster.ts';
import { type Member, createRoom, leaseHolder, membersOf } from '../../test/support/clusterMembers.ts';
import { CommandClient, answerFailed, answerOk, sendCommand } from '../../test/support/commandClient.ts';
import { MuxSocket } from '../../test/support/muxSocket.ts';
import { CloseCode } from '../../shared/protocol/closeCodes.ts';
import { encodeControl } from '../../shared/protocol/muxFrames.ts';
import { watchExpiry } from '../../test/support/redis.ts';
import { sampleValue } from '../../test/support/promText.ts';
import { contentsOf, writerReplica } from '../../test/support/writerReplica.ts';

const runs = clusterTestsRun();
const it = runs ? test : test.skip;

const commandsAt = (node: ClusterNode, member: Member): Promise<CommandClient> =>
  CommandClient.open(`${node.url.replace(/^http/, 'ws')}/ws/commands?token=${encodeURIComponent(member.token)}`);

/**
 * Ana's room, owned by `owner` (her socket joined it there first), and a bot's command client on
 * `edge`, with the owner's lease on the room watched in Redis: the set-up of the failover tests.
 * The caller joins the bot (inside its try) and closes `first`, `client` and `expiry`.
 */
async function botBesideOwner(cluster: TestCluster, owner: ClusterNode, edge: ClusterNode) {
  const [ana, bot] = (await membersOf(cluster, owner, ['Ana', 'Bot'])) as [Member, Member];
  const roomId = await createRoom(owner, ana, [bot]);
  const first = await MuxSocket.connect(owner.url, ana.token);
  await first.join(roomId);
  expect(await leaseHolder(cluster, roomId)).toBe(owner.id);
  const client = await commandsAt(edge, bot);
  const expiry = await watchExpiry(cluster.redis.url, `parley:lease:${roomId}`);
  return { ana, roomId, first, client, expiry };
}

/**
 * The JSON command endpoint across nodes (docs/scale-out.md, "Routing"): a bot connected to a node
 * that does not own the room has its commands served by the owner, over a command channel of the
 * node link, and gets the room's events back on it.
 */
describe(clusterSuiteName('a bot on a node that does not own the room'), () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    if (runs) cluster = await startCluster({ nodes: 3 });
  }, 120_000);
  afterAll(() => cluster?.stop(), 60_000);

  it('joins, sends, edits, reacts and reads history through the owner; clients on the others see it; it hears their messages; removed over REST it is unsubscribed', async () => {
    const [owner, edge, third] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    const [ana, bot, cai] = (await membersOf(cluster, owner, ['Ana', 'Bot', 'Cai'])) as [Member, Member, Member];
    const roomId = await createRoom(owner, ana, [bot, cai]);
    // A sync client opens the room on node 1 first: node 1 owns it.
    const onOwner = await MuxSocket.connect(owner.url, ana.token);
    await onOwner.join(roomId);
    expect(await leaseHolder(cluster, roomId)).toBe(owner.id);

    const client = await commandsAt(edge, bot);
    const reader = await MuxSocket.connect(third.url, cai.token);
    try {
      const joined = CommandAnswerSchemas.join_room.parse(answerOk(await client.request('join_room', { room_id: roomId }), 'join_room'));
      expect(joined.room.id).toBe(roomId);
      const sent = await sendCommand(client, roomId, 'from the bot', { message_id: uuidv7() });
      expect((await client.event('message_created', (d) => (d.message as { id: string }).id === sent.id)).data).toMatchObject({ room_id: roomId });
      const edited = CommandAnswerSchemas.edit_message.parse(answerOk(await client.request('edit_message', { room_id: roomId, message_id: sent.id, content: 'edited by the bot' }), 'edit_message'));
      expect(edited.message).toMatchObject({ content: 'edited by the bot', is_edited: true });
      const reacted = CommandAnswerSchemas.add_reaction.parse(answerOk(await client.request('add_reaction', { room_id: roomId, message_id: sent.id, reaction: '👍' }), 'add_reaction'));
      expect(reacted.message.reactions).toEqual({ '👍': [bot.id] });
      await client.event('reaction_added', (d) => d.message_id === sent.id);
      answerOk(await client.request('typing_start', { room_id: roomId }), 'typing_start');
      // Answers carry the bot's own request ids (CommandClient matches them), whatever the link used.
      const page = CommandAnswerSchemas.fetch_history.parse(answerOk(await client.request('fetch_history', { room_id: roomId, limit: 50 }), 'fetch_history'));
      expect(page.messages.map((m) => [m.id, m.content, m.reactions])).toEqual([[sent.id, 'edited by the bot', { '👍': [bot.id] }]]);

      // Cai, on node 3, sees the bot's message; what Cai writes reaches the bot as an event.
      const { channel, doc } = await reader.join(roomId);
      expect(contentsOf(doc)).toEqual(['edited by the bot']);
      const cais = writerReplica(cai.id);
      reader.sendUpdate(channel, cais.write('from node 3'));
      await reader.next(channel, (f) => f.type === 'ack');
      const created = await client.event('message_created', (d) => (d.message as { content: string }).content === 'from node 3');
      expect(created.data).toMatchObject({ room_id: roomId, message: { sender_id: cai.id } });

      // Node 2 counted the command channel's frames (commands out, answers and events in).
      const metrics = await (await fetch(`${edge.url}/metrics`)).text();
      expect(sampleValue(metrics, 'parley_forwarded_frames_total', { node: edge.id })).toBeGreaterThanOrEqual(12);
      expect(sampleValue(metrics, 'parley_rooms_owned', { node: edge.id })).toBe(0);

      // Leaving goes where the room was joined; joined again, the bot is unsubscribed when Ana removes it over REST on node 1.
      answerOk(await client.request('leave_room', { room_id: roomId }), 'leave_room');
      answerFailed(await client.request('typing_stop', { room_id: roomId }), 'typing_stop', 'not_joined');
      // Not joined, nothing else comes: a command without a request_id is answered without one, and two under one id are both answered with it.
      const before = client.frames.length;
      client.ws.send(JSON.stringify({ command: 'fetch_pinned', room_id: roomId }));
      for (const _ of [1, 2]) client.ws.send(JSON.stringify({ command: 'fetch_pinned', room_id: roomId, request_id: 'twice' }));
      while (client.frames.length < before + 3) await client.nextFrame();
      // Answers may overtake each other (docs/commands.md): compared in any order.
      const unmatched = client.frames.slice(before).map((f) => `${f.type} ${f.success} ${f.request_id ?? '-'}`);
      expect(unmatched.sort()).toEqual(['fetch_pinned true -', 'fetch_pinned true twice', 'fetch_pinned true twice']);
      answerOk(await client.request('join_room', { room_id: roomId }), 'join_room');
      const removed = await fetch(`${owner.url}/api/rooms/${roomId}/members/${bot.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ana.token}` } });
      expect(removed.status).toBe(204);
      expect((await client.event('unsubscribed')).data).toMatchObject({ room_id: roomId, code: 'not_a_member' });
      answerFailed(await client.request('send_message', { room_id: roomId, content: 'after removal' }), 'send_message', 'not_a_member');
      expect(await leaseHolder(cluster, roomId)).toBe(owner.id);
    } finally {
      client.ws.close();
      reader.close();
      onOwner.close();
    }
  }, 60_000);

  it('a public socket that sends openCommandsAs is closed (it is for links between nodes)', async () => {
    const [node] = cluster.nodes as [ClusterNode];
    const [eve] = (await membersOf(cluster, node, ['Eve'])) as [Member];
    const socket = await MuxSocket.connect(node.url, eve.token);
    socket.raw.send(encodeControl({ type: 'openCommandsAs', channel: 1, userId: uuidv4(), userName: 'Someone else' }));
    expect((await socket.raw.closed).code).toBe(CloseCode.ProtocolError);
  }, 30_000);
});

/**
 * The owner dies (SIGKILL) while a bot on another node streams messages with ids of its own: what
 * was in flight is answered owner_unavailable, the joined room unsubscribed; once the dead node's
 * lease expires (PARLEY_LEASE_TTL_MS, 2 s) the bot joins again and resends, and every message is
 * stored exactly once.
 */
describe(clusterSuiteName('the owner killed under a bot'), () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    if (runs) cluster = await startCluster({ nodes: 3, env: { PARLEY_LEASE_TTL_MS: '2000' } });
  }, 120_000);
  afterAll(() => cluster?.stop(), 60_000);

  it('keeps every message the bot was answered for, once, after it resends what was answered owner_unavailable', async () => {
    const [dying, edge, third] = [...cluster.nodes] as [ClusterNode, ClusterNode, ClusterNode];
    const { ana, roomId, first, client, expiry } = await botBesideOwner(cluster, dying, edge);
    try {
      answerOk(await client.request('join_room', { room_id: roomId }), 'join_room');
      const TOTAL = 60;
      const IN_FLIGHT = 6;
      const messages = Array.from({ length: TOTAL }, (_, i) => ({ message_id: uuidv7(), content: `stream ${i}` }));
      const answers: Array<WebSocketResponse | undefined> = [];
      const unsubscribed = client.event('unsubscribed');
      // A stream: IN_FLIGHT sends outstanding at any time; the owner is killed after 20 are answered.
      let next = 0;
      let succeeded = 0;
      const kill: { done: Promise<void> | null } = { done: null };
      await new Promise<void>((done) => {
        const pump = (): void => {
          if (next === TOTAL) {
            if (answers.filter(Boolean).length === TOTAL) done();
            return;
          }
          const i = next++;
          void client.request('send_message', { room_id: roomId, ...messages[i] }).then((answer) => {
            answers[i] = answer;
            if (answer.success && ++succeeded === 20) {
              first.close();
              kill.done = cluster.kill(dying);
            }
            pump();
          });
        };
        for (let k = 0; k < IN_FLIGHT; k++) pump();
      });
      await kill.done;
      const acknowledged = answers.flatMap((a, i) => (a?.success ? [i] : []));
      const unavailable = answers.flatMap((a, i) => (a && !a.success ? [i] : []));
      expect(acknowledged.length).toBeGreaterThanOrEqual(20);
      expect(unavailable.length).toBeGreaterThan(0);
      for (const i of unavailable) expect(answers[i]?.error).toBe('owner_unavailable');
      expect((await unsubscribed).data).toMatchObject({ room_id: roomId, code: 'owner_unavailable' });

      // Once the lease expires a live node takes the room: the bot joins again and resends.
      await expiry.expired;
      answerOk(await client.request('join_room', { room_id: roomId }), 'join_room');
      for (const i of unavailable) {
        const resent = CommandAnswerSchemas.send_message.parse(answerOk(await client.request('send_message', { room_id: roomId, ...messages[i] }), 'send_message'));
        expect(resent.message).toMatchObject({ id: messages[i]!.message_id, content: messages[i]!.content });
      }
      const page = CommandAnswerSchemas.fetch_history.parse(answerOk(await client.request('fetch_history', { room_id: roomId, limit: 100 }), 'fetch_history'));
      // Ids made in one millisecond need not sort in the order they were made: compared as sets, and counted.
      expect(page.messages).toHaveLength(TOTAL);
      expect(new Set(page.messages.map((m) => m.id))).toEqual(new Set(messages.map((m) => m.message_id)));
      expect(page.messages.map((m) => m.content).sort()).toEqual(messages.map((m) => m.content).sort());

      // A reader on the third node, from PostgreSQL through the new owner: each message once.
      const reader = await MuxSocket.connect(third.url, ana.token);
      const { doc } = await reader.join(roomId);
      reader.close();
      expect(contentsOf(doc).sort()).toEqual(messages.map((m) => m.content).sort());
      expect([edge.id, third.id]).toContain(await leaseHolder(cluster, roomId));
    } finally {
      expiry.close();
      client.ws.close();
    }
  }, 90_000);
});

/**
 * An owner that stops answering without dying (SIGSTOP: a long pause, a partition that keeps its TCP
 * connections up): the edge's node-link heartbeat gives it up, the bot's command in flight is
 * answered owner_unavailable and its joined room unsubscribed, and once the lease expires the bot's
 * resend is served by the node that took the room. The owner, resumed, gives the room up: the
 * message is stored once.
 */
describe(clusterSuiteName('the owner paused under a bot'), () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    if (runs) cluster = await startCluster({ nodes: 2, env: { PARLEY_LEASE_TTL_MS: '2000' } });
  }, 120_000);
  // stop() resumes a node the test left paused.
  afterAll(() => cluster?.stop(), 60_000);

  it('answers what was in flight owner_unavailable, serves the resend from the new owner, and stores it once', async () => {
    const [paused, edge] = [...cluster.nodes] as [ClusterNode, ClusterNode];
    const { ana, roomId, first, client, expiry } = await botBesideOwner(cluster, paused, edge);
    try {
      answerOk(await client.request('join_room', { room_id: roomId }), 'join_room');
      answerOk(await client.request('send_message', { room_id: roomId, content: 'before the pause' }), 'send_message');
      const unsubscribed = client.event('unsubscribed');
      paused.server.child.kill('SIGSTOP');
      const message = { message_id: uuidv7(), content: 'sent while the owner is paused' };
      // No answer from a paused owner: the edge's heartbeat drops the link, and the command is answered here.
      answerFailed(await client.request('send_message', { room_id: roomId, ...message }), 'send_message', 'owner_unavailable');
      expect((await unsubscribed).data).toMatchObject({ room_id: roomId, code: 'owner_unavailable' });

      await expiry.expired;
      answerOk(await client.request('join_room', { room_id: roomId }), 'join_room');
      const resent = CommandAnswerSchemas.send_message.parse(answerOk(await client.request('send_message', { room_id: roomId, ...message }), 'send_message'));
      expect(resent.message).toMatchObject({ id: message.message_id, content: message.content });
      expect(await leaseHolder(cluster, roomId)).toBe(edge.id);

      // The paused owner resumes: it finds the room taken and gives it up; the message is there once.
      paused.server.child.kill('SIGCONT');
      first.close();
      const page = CommandAnswerSchemas.fetch_history.parse(answerOk(await client.request('fetch_history', { room_id: roomId, limit: 10 }), 'fetch_history'));
      expect(page.messages.map((m) => m.content).sort()).toEqual(['before the pause', message.content]);
      const reader = await MuxSocket.connect(edge.url, ana.token);
      const { doc } = await reader.join(roomId);
      reader.close();
      expect(contentsOf(doc).sort()).toEqual(['before the pause', message.content]);
    } finally {
      expiry.close();
      client.ws.close();
    }
  }, 90_000);
});

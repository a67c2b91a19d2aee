import * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import { createMessage, deleteMessage, editMessage } from '../../shared/roomDoc/messageOps.ts';
import { addReaction } from '../../shared/roomDoc/reactionOps.ts';
import { markRead } from '../../shared/roomDoc/readOps.ts';
import { MAX_PINS, headMaps } from '../../shared/roomDoc/headMaps.ts';
import { ClientOwners } from '../../server/validation/ClientOwners.ts';
import { validateUpdate } from '../../server/validation/validateUpdate.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';
import { median, quantile, seededRandom } from '../stats.ts';

/*
 * The write-permission validator on a large room: the time validateUpdate takes to judge one
 * incoming update (decode, resolve every item's slot, check the rules) against the server's
 * replica of a room of 100,000 messages written by 50 devices. Each update is made by a real
 * replica with the shared room-document operations, exactly as a client makes it; after it is
 * measured it is applied, so the next one builds on it.
 */

const USERS = Array.from({ length: 10 }, (_, i) => `${i.toString(16).padStart(8, '0')}-58f2-4c8e-9a51-0b0f1c2d3e0${i % 10}`);
const T0 = Date.UTC(2026, 0, 1);
const DEVICES = 50;

interface Sizes {
  readonly messages: number;
  readonly samples: number;
}

const QUICK: Sizes = { messages: 100_000, samples: 2_000 };
const FULL: Sizes = { messages: 100_000, samples: 10_000 };

interface Room {
  readonly server: Y.Doc;
  readonly owners: ClientOwners;
  readonly ids: string[];
}

/** The server's replica: `n` messages from DEVICES devices (each bound to its user), about 80 characters each. */
function buildRoom(n: number): Room {
  const server = new Y.Doc();
  const owners = new ClientOwners();
  const ids: string[] = [];
  const devices = Array.from({ length: DEVICES }, (_, d) => {
    const doc = new Y.Doc();
    doc.clientID = 1_000 + d;
    const userId = USERS[d % USERS.length] ?? '';
    owners.bind(doc.clientID, userId);
    return { doc, actor: { userId, role: 'member' } as Actor };
  });
  for (const [d, device] of devices.entries()) {
    device.doc.transact(() => {
      for (let i = d; i < n; i += DEVICES) {
        const result = createMessage(device.doc, device.actor, { content: `message ${i} `.padEnd(80, '.'), now: T0 + i });
        if (!result.ok) throw new Error(result.message);
        ids.push(result.id);
      }
    });
    Y.applyUpdate(server, Y.encodeStateAsUpdate(device.doc));
    device.doc.destroy();
  }
  ids.sort();
  return { server, owners, ids };
}

type Operation = (doc: Y.Doc, actor: Actor, target: string) => void;

const OPERATIONS: ReadonlyArray<[string, Operation]> = [
  ['send a message', (doc, actor) => void createMessage(doc, actor, { content: 'a new message '.padEnd(80, '.') })],
  ['edit own message', (doc, actor, target) => void editMessage(doc, actor, { id: target, content: `edited ${Math.random()}` })],
  ['add a reaction', (doc, actor, target) => void addReaction(doc, actor, { messageId: target, reaction: `r${Math.random()}`.slice(0, 10) })],
  ['mark read', (doc, actor, target) => void markRead(doc, actor, target)],
  ['admin deletes a message', (doc, actor, target) => void deleteMessage(doc, actor, { id: target })],
  // The rules of "Conversations" (docs/protocol.md): a reply naming its root and two members.
  [
    'reply in a thread, mentioning two',
    (doc, actor, target) => void createMessage(doc, actor, { content: 'a reply '.padEnd(80, '.'), parentId: target, mentionedUsers: [USERS[1] ?? '', USERS[2] ?? ''] }),
  ],
  ['quote a message', (doc, actor, target) => void createMessage(doc, actor, { content: 'a quote '.padEnd(80, '.'), quotedMessageId: target })],
  [
    'admin pins a message',
    (doc, actor, target) =>
      doc.transact(() => {
        // Unpins the oldest pin first, so the room stays under MAX_PINS however many samples run.
        const pins = headMaps(doc).pins;
        if (pins.size >= MAX_PINS) pins.delete(pins.keys().next().value ?? '');
        pins.set(target, { pinnedAt: Date.now(), pinnedBy: actor.userId });
      }),
  ],
];

/** The gate asks the directory whether a mentioned user is a member; here a set stands for it. */
const MEMBERS: ReadonlySet<string> = new Set(USERS);

function measure(room: Room, name: string, operation: Operation, samples: number, admin: boolean): number[] {
  const actor: Actor = { userId: USERS[0] ?? '', role: admin ? 'admin' : 'member' };
  // One long-lived device of USERS[0]: it holds the whole room, as a client's replica would.
  const device = new Y.Doc();
  Y.applyUpdate(device, Y.encodeStateAsUpdate(room.server));
  const own = room.ids.filter((_, i) => i % USERS.length === 0);
  const random = seededRandom(7);
  const times: number[] = [];
  let readCursor = 0;
  for (let i = 0; i < samples; i++) {
    const pool = name === 'mark read' ? room.ids : admin ? room.ids : own;
    const target = name === 'mark read' ? (room.ids[Math.min(room.ids.length - 1, (readCursor += 3))] ?? '') : (pool[Math.floor(random() * pool.length)] ?? '');
    const updates: Uint8Array[] = [];
    const record = (u: Uint8Array): void => void updates.push(u);
    device.on('update', record);
    operation(device, actor, target);
    device.off('update', record);
    const update = updates[0];
    if (update === undefined) continue;
    const start = performance.now();
    const verdict = validateUpdate({ doc: room.server, update, sender: { userId: actor.userId, role: () => actor.role, isActiveMember: (id) => MEMBERS.has(id) }, owners: room.owners, now: Date.now() });
    times.push(performance.now() - start);
    if (!verdict.ok) throw new Error(`${name}: refused: ${verdict.refusal.code}: ${verdict.refusal.reason}`);
    Y.applyUpdate(room.server, update);
    for (const client of verdict.newClients) room.owners.bind(client, actor.userId);
  }
  device.destroy();
  return times;
}

const scenario: Scenario = {
  name: 'updateValidation',
  description: 'validateUpdate on the server replica of a 100,000-message room: time per incoming update',
  async run({ quick }: RunOptions): Promise<Figure[]> {
    const sizes = quick ? QUICK : FULL;
    const room = buildRoom(sizes.messages);
    const figures: Figure[] = [];
    for (const [name, operation] of OPERATIONS) {
      const times = measure(room, name, operation, sizes.samples, name.startsWith('admin'));
      const note = `${sizes.messages / 1000}k messages, ${DEVICES} client ids, ${times.length} updates`;
      figures.push(
        { metric: `${name}, median`, value: median(times) * 1000, unit: 'µs', note },
        { metric: `${name}, p99`, value: quantile(times, 0.99) * 1000, unit: 'µs', note },
      );
    }
    room.server.destroy();
    return figures;
  },
};

export default scenario;

import * as Y from 'yjs';
import { type DeliveryListener, Receiver, SendLog } from './deliveries.ts';
import type { RunningPeer } from './peerServer.ts';
import { type Member, prepareRooms } from './rooms.ts';
import { Session, sleep } from './session.ts';

/** One writer and N observers in one room, every one synced. */
export interface FanoutRoom {
  readonly roomId: string;
  readonly writerMember: Member;
  /** The writer's document: its transactions are the messages. */
  readonly doc: Y.Doc;
  /** Send times, for the receivers' latencies (log.record after each message). */
  readonly log: SendLog;
  readonly receivers: readonly Receiver[];
}

/**
 * Sets up the fan-out scenarios' room on `server`: a room of n + 1 members, n bare observers that
 * timestamp every update they get (`onDelivery`), and the writer; resolves once all have synced
 * and the joins have settled (Parley republishes room presence within 200 ms of a join).
 */
export async function openFanoutRoom(server: RunningPeer, session: Session, n: number, onDelivery: DeliveryListener, settleMs: number): Promise<FanoutRoom> {
  const [room] = await prepareRooms(server, 1, n + 1);
  if (!room) throw new Error('no room');
  const [writerMember, ...observerMembers] = room.members;
  if (!writerMember) throw new Error('no writer');
  const log = new SendLog();
  const receivers = observerMembers.map(() => new Receiver(log, onDelivery));
  await session.openSynced(
    observerMembers.map((m, i) => {
      const { url, docName } = server.endpoint(room.roomId, m.token);
      return { url, docName, protocol: server.traits.protocol, token: m.token, label: `observer ${i}`, onUpdate: receivers[i]?.onUpdate };
    }),
  );
  const doc = new Y.Doc();
  const { url, docName } = server.endpoint(room.roomId, writerMember.token);
  const writer = session.open({ url, docName, protocol: server.traits.protocol, token: writerMember.token, doc, label: 'writer' });
  await session.wait(writer.synced, 'writer sync');
  await sleep(settleMs);
  return { roomId: room.roomId, writerMember, doc, log, receivers };
}

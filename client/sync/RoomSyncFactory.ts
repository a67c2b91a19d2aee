import type * as awarenessProtocol from 'y-protocols/awareness';
import type { ClientError } from '../errors/ClientError.ts';
import type { ClientIdentity } from '../identity/ClientIdentity.ts';
import { RoomReplica, type CompactionPolicy } from '../room/RoomReplica.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { BackoffOptions } from './backoff.ts';
import type { ConnectionStatus } from './ConnectionStatus.ts';
import { RoomConnection, type TokenProvider } from './RoomConnection.ts';
import type { SocketOpener } from './SyncSocket.ts';
import type { InboundPacer } from './InboundPacer.ts';

export interface RoomSyncFactoryOptions {
  readonly store: LocalStore;
  readonly identity: ClientIdentity;
  readonly status: ConnectionStatus;
  readonly getToken: TokenProvider;
  /** A channel of the device's one sync socket per room, or a socket per room. */
  readonly openSocket: SocketOpener;
  readonly reconnect?: BackoffOptions;
  readonly maxFrameBytes?: number;
  readonly compaction?: CompactionPolicy;
  /** The BroadcastChannel shared by the tabs on this database. */
  readonly channelName: string;
  readonly onError: (error: ClientError) => void;
  /** Paces what paced connections receive (older sealed segments: ChatClientOptions.pacedHistory). */
  readonly pacer?: InboundPacer;
  /** Every replica loaded here, as it loads (the search index follows its document until it is destroyed). */
  readonly loaded?: (replica: RoomReplica) => void;
}

/**
 * Makes what syncing a room takes, the same way for rooms open in the foreground and rooms
 * synced in the background: a replica loaded from the device under this device's client id,
 * and a connection attached to it that counts in the client's connection status.
 */
export class RoomSyncFactory {
  readonly #opts: RoomSyncFactoryOptions;

  constructor(opts: RoomSyncFactoryOptions) {
    this.#opts = opts;
  }

  async loadReplica(roomId: string): Promise<RoomReplica> {
    const { store, identity, compaction, channelName } = this.#opts;
    const replica = await RoomReplica.load(store, roomId, identity.clientId, { ...(compaction ? { compaction } : {}), channelName });
    replica.onClientIdConflict = () => identity.retire();
    this.#opts.loaded?.(replica);
    return replica;
  }

  /** A connection for the replica (not connected yet); `release` detaches it from the status once closed. */
  connect(replica: RoomReplica, awareness?: awarenessProtocol.Awareness, { paced = false }: { paced?: boolean } = {}): { connection: RoomConnection; release: () => void } {
    const { getToken, openSocket, reconnect, maxFrameBytes, status, onError, pacer } = this.#opts;
    const connection = new RoomConnection(replica, {
      ...(paced && pacer ? { pacer } : {}),
      getToken,
      openSocket,
      ...(reconnect ? { backoff: reconnect } : {}),
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
      ...(awareness ? { awareness } : {}),
    });
    replica.attach(connection);
    // A room whose change was refused reads on, holding this device's writes (ChatRoom.refusal).
    if (replica.refusal !== null) connection.holdWrites(true);
    const untrack = status.track(connection);
    const offError = connection.on('error', onError);
    return {
      connection,
      release: () => {
        offError();
        untrack();
      },
    };
  }
}

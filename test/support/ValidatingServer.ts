import * as Y from 'yjs';
import type { Actor } from '../../shared/roomDoc/actor.ts';
import type { UpdateRefusal } from '../../shared/protocol/updateRefusals.ts';
import { ClientOwners } from '../../server/validation/ClientOwners.ts';
import { validateUpdate } from '../../server/validation/validateUpdate.ts';
import type { UploadedAttachment } from '../../server/validation/judgeAttachments.ts';

/**
 * The server's side of the validator in memory: a room document and its client-id owners. An
 * accepted update is applied and its new client ids bound, exactly as the sync path does.
 */
export class ValidatingServer {
  readonly doc = new Y.Doc();
  readonly owners = new ClientOwners();
  readonly roles = new Map<string, Actor['role']>();
  /** The server's clock (the future-date rule). */
  clock: () => number = Date.now;
  /** Whether this document is a room's segment (which holds no head maps). */
  isSegment = false;
  /** Uploads to this room by id (the server's attachment records). */
  readonly uploads = new Map<string, UploadedAttachment>();

  constructor(members: readonly Actor[]) {
    for (const m of members) this.roles.set(m.userId, m.role);
  }

  /** Validates and, if accepted, applies. Returns the refusal or null. */
  submit(userId: string, update: Uint8Array): UpdateRefusal | null {
    const verdict = validateUpdate({
      doc: this.doc,
      update,
      sender: {
        userId,
        role: () => this.roles.get(userId) ?? 'member',
        isActiveMember: (id) => this.roles.has(id),
        uploadedAttachment: (id) => this.uploads.get(id) ?? null,
      },
      owners: this.owners,
      now: this.clock(),
      isSegment: this.isSegment,
    });
    if (!verdict.ok) return verdict.refusal;
    Y.applyUpdate(this.doc, update);
    if (this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null) {
      throw new Error('an accepted update left structs or deletions pending');
    }
    for (const client of verdict.newClients) this.owners.bind(client, userId);
    return null;
  }

  /** The server's whole state, for byte-identical comparisons. */
  state(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc);
  }
}

/** One device of a user: a replica of the room with its own client id. */
export class Device {
  readonly doc = new Y.Doc();

  constructor(
    readonly actor: Actor,
    readonly server: ValidatingServer,
  ) {
    this.pull();
  }

  /** Receives everything the server has (as a sync step 2 would). */
  pull(): void {
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(this.server.doc, Y.encodeStateVector(this.doc)));
  }

  /** What this device would send in a sync step 2: everything the server lacks. */
  diff(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(this.server.doc));
  }

  /** Runs `change` on the replica and returns the update it produced (merged if several). */
  capture(change: (doc: Y.Doc) => void): Uint8Array {
    const updates: Uint8Array[] = [];
    const record = (u: Uint8Array): void => {
      updates.push(u);
    };
    this.doc.on('update', record);
    try {
      change(this.doc);
    } finally {
      this.doc.off('update', record);
    }
    return Y.mergeUpdates(updates);
  }

  /** Sends the device's missing changes to the server; returns the refusal or null. */
  push(): UpdateRefusal | null {
    return this.server.submit(this.actor.userId, this.diff());
  }
}

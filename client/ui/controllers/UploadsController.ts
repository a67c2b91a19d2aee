import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatClient } from '../../ChatClient.ts';
import type { PendingUpload, SendWithFiles } from '../../attachments/UploadQueue.ts';

/** Reads a picked, pasted or dropped File into what the SDK stores and uploads. */
async function toUploadSource(file: File) {
  return { name: file.name || 'file', declaredType: file.type, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/**
 * The open room's messages that wait for their files (ChatClient.uploads): listed under the
 * messages with their progress until the message itself is in the room, or with Retry and
 * Discard after a refusal.
 */
export class UploadsController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  pending: readonly PendingUpload[] = [];
  error: string | null = null;
  #client: ChatClient | null = null;
  #roomId: string | null = null;
  #off: (() => void) | null = null;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.show(null, null);
  }

  show(client: ChatClient | null, roomId: string | null): void {
    if (client === this.#client && roomId === this.#roomId) return;
    this.#off?.();
    this.#off = null;
    [this.#client, this.#roomId] = [client, roomId];
    this.#refresh();
    if (!client || !roomId) return;
    this.#off = client.uploads.on('change', (changed) => {
      if (changed === this.#roomId) this.#refresh();
    });
  }

  async send(files: readonly File[], input: Omit<SendWithFiles, 'files'>): Promise<void> {
    const [client, roomId] = [this.#client, this.#roomId];
    if (!client || !roomId) return;
    try {
      await client.uploads.send(roomId, { ...input, files: await Promise.all(files.map(toUploadSource)) });
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.#host.requestUpdate();
    }
  }

  retry(messageId: string): Promise<void> {
    return this.#client?.uploads.retry(messageId) ?? Promise.resolve();
  }

  discard(messageId: string): Promise<void> {
    return this.#client?.uploads.discard(messageId) ?? Promise.resolve();
  }

  /** The bytes picked for a waiting file, to preview it before the server has it. */
  bytes(messageId: string, index: number): Promise<Uint8Array | null> {
    return this.#client?.uploads.bytes(messageId, index) ?? Promise.resolve(null);
  }

  #refresh(): void {
    this.pending = this.#client && this.#roomId ? this.#client.uploads.pending(this.#roomId) : [];
    this.#host.requestUpdate();
  }
}

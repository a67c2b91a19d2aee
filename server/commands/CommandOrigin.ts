/**
 * The transaction origin of a change a command connection made to a room document (see
 * server/sync/origins.ts): it names the user and the connection, for logs and for anything that
 * must tell the change's source. The server's doc writes it under its own client id.
 */
export class CommandOrigin {
  readonly kind = 'command';
  readonly userId: string;
  readonly connectionId: number;

  constructor(userId: string, connectionId: number) {
    this.userId = userId;
    this.connectionId = connectionId;
  }
}

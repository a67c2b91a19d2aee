import type { AuthUser } from '../auth/TokenVerifier.ts';

/** What a channel forwarded to another node hears from it (docs/scale-out.md, "Routing"). */
export interface ForwardHandlers {
  /** A frame of the document (sync, awareness, ack, error), unchanged. */
  frame(body: Uint8Array): void;
  /** The owner ended the channel (its close code, error code and reason), or the link to it was lost. Once. */
  closed(code: number, errorCode: string, reason: string): void;
}

/** The edge's side of a forwarded channel. */
export interface ForwardedChannel {
  /** Sends a frame of the document to the owner, unchanged. */
  send(body: Uint8Array): void;
  /** The client closed the channel, or its socket went. Idempotent. */
  close(): void;
}

/** Where a document's channel is served. */
export type ChannelRoute =
  /** Here: this node owns the document's room. */
  | { readonly kind: 'local' }
  /** On its owner, through the link to it, as `user`. */
  | {
      readonly kind: 'remote';
      readonly owner: string;
      open(user: AuthUser, handlers: ForwardHandlers): ForwardedChannel;
      /** A command channel on the owner as `user` (openCommandsAs): bodies are the command protocol's JSON text. */
      openCommands(user: AuthUser, handlers: ForwardHandlers): ForwardedChannel;
    }
  /** Nowhere for now (no owner reachable): the client is told OwnerUnavailable and reopens later. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Decides, for a document a client opens, whether this node serves it or forwards it to its
 * owner (server/routing/ClusterRouter.ts). Without one (a single node), every channel is local.
 */
export interface ChannelRouter {
  route(docName: string): Promise<ChannelRoute>;
}

import type { z } from 'zod';
import type { Logger } from '../log.ts';
import type { AccessGuard } from '../access/AccessGuard.ts';
import type { ChannelRoute, ChannelRouter } from '../sync/ChannelRouter.ts';
import type { RequestIdSchema } from '../../shared/commands/webSocketCommand.ts';
import type { CommandConnection } from './CommandConnection.ts';
import { type CommandFailure, commandFailure } from './CommandFailure.ts';
import { OwnerCommandChannel } from './OwnerCommandChannel.ts';
import type { ParsedCommand } from './parseCommandFrame.ts';

type RequestId = z.infer<typeof RequestIdSchema>;

/** Where a command went: run here, sent to its room's owner (answered from there), or refused with this failure. */
export type CommandRoute = { readonly kind: 'local' } | { readonly kind: 'forwarded' } | { readonly kind: 'refused'; readonly failure: CommandFailure };

export interface CommandRoutesDeps {
  readonly router: ChannelRouter;
  readonly access: AccessGuard;
  readonly conn: CommandConnection;
  readonly logger: Logger;
  /**
   * The connection is linked from another node (this node is that node's owner of some rooms): it
   * is served here only, and a room another node owns is answered `owner_unavailable`, never
   * forwarded a second time (the edge routes it afresh when the bot resends).
   */
  readonly linked: boolean;
}

const LOCAL: CommandRoute = { kind: 'local' };
/** The connection closed before the command was routed: nobody is left to answer. */
const GONE: CommandRoute = { kind: 'refused', failure: commandFailure('owner_unavailable', 'the connection closed') };
const FORWARDED: CommandRoute = { kind: 'forwarded' };
const refused = (failure: CommandFailure): CommandRoute => ({ kind: 'refused', failure });

/** Rooms whose route one connection remembers; the oldest is forgotten past this (it is routed again when used). */
const MAX_REMEMBERED_ROOMS = 1_000;

/**
 * Where one command connection's commands are served, with several nodes (docs/scale-out.md,
 * "Routing"): each command's room is routed as a sync channel is, here or on its owner through a
 * command channel of the link to it (OwnerCommandChannel, one per owner node, opened on first use).
 *
 * A room's route is decided once, after a membership check (as a sync channel's open: no lease is
 * taken for a room the user may not open), and remembered until a command of that room is
 * answered `owner_unavailable` (the room moved: here, the owner's load refuses it; there, the
 * owner does) or its channel ends; the next command is then checked and routed afresh. `leave_room`
 * needs no membership: it goes where the room was joined. Called within the connection's turn
 * (CommandConnection.inTurn), so commands reach each node in the order the frames arrived.
 */
export class CommandRoutes {
  readonly #deps: CommandRoutesDeps;
  readonly #rooms = new Map<string, OwnerCommandChannel | 'local'>();
  readonly #channels = new Map<string, OwnerCommandChannel>();
  /** The connection closed: nothing is routed or forwarded any more (a command still routing when it closed is dropped). */
  #ended = false;

  constructor(deps: CommandRoutesDeps) {
    this.#deps = deps;
  }

  /** Routes a command; a forwarded one is sent before this resolves. */
  async take(command: ParsedCommand, requestId: RequestId | undefined): Promise<CommandRoute> {
    if (this.#ended) return GONE;
    const roomId = command.payload.room_id;
    if (command.command === 'leave_room') {
      // Where the room is joined, or a join of it is on its way (a leave right behind a forwarded join).
      const through = [...this.#channels.values()].find((channel) => channel.joins(roomId));
      if (!through) return LOCAL;
      through.forward(command, requestId);
      return FORWARDED;
    }
    const known = this.#rooms.get(roomId);
    if (known === 'local') return LOCAL;
    if (known && !known.ended) {
      known.forward(command, requestId);
      return FORWARDED;
    }
    const { access, router, conn, linked } = this.#deps;
    const allowed = await access.check(roomId, conn.user.id);
    if (!allowed.ok) return refused(commandFailure(allowed.code, allowed.reason));
    const route = await router.route(roomId);
    // Closed while the check or the route was awaited: no channel is opened for a connection gone.
    if (this.#ended) return GONE;
    switch (route.kind) {
      case 'local':
        this.#remember(roomId, 'local');
        return LOCAL;
      case 'unavailable':
        return refused(commandFailure('owner_unavailable', `${route.reason}; retry`));
      case 'remote': {
        if (linked) return refused(commandFailure('owner_unavailable', 'this node does not own the room; retry'));
        const channel = this.#channelTo(route);
        this.#remember(roomId, channel);
        channel.forward(command, requestId);
        return FORWARDED;
      }
    }
  }

  /** A command of `roomId` was answered (here or by its owner): owner_unavailable means the room moved. */
  answered(roomId: string, error: string | null): void {
    if (error === 'owner_unavailable') this.#rooms.delete(roomId);
  }

  /** The connection closed: its channels close on their owners. */
  end(): void {
    this.#ended = true;
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
    this.#rooms.clear();
  }

  #channelTo(route: Extract<ChannelRoute, { kind: 'remote' }>): OwnerCommandChannel {
    const current = this.#channels.get(route.owner);
    if (current && !current.ended) return current;
    const { conn, logger } = this.#deps;
    const channel = new OwnerCommandChannel(route.owner, (handlers) => route.openCommands(conn.user, handlers), {
      conn,
      logger,
      answered: (roomId, error) => this.answered(roomId, error),
      lost: (lost) => this.#lost(lost),
    });
    this.#channels.set(route.owner, channel);
    return channel;
  }

  #lost(channel: OwnerCommandChannel): void {
    if (this.#channels.get(channel.owner) === channel) this.#channels.delete(channel.owner);
    for (const [roomId, route] of this.#rooms) if (route === channel) this.#rooms.delete(roomId);
  }

  #remember(roomId: string, route: OwnerCommandChannel | 'local'): void {
    this.#rooms.delete(roomId);
    if (this.#rooms.size >= MAX_REMEMBERED_ROOMS) {
      const oldest = this.#rooms.keys().next();
      if (!oldest.done) this.#rooms.delete(oldest.value);
    }
    this.#rooms.set(roomId, route);
  }
}

import type { z } from 'zod';
import type { Logger } from '../log.ts';
import type { ForwardHandlers, ForwardedChannel } from '../sync/ChannelRouter.ts';
import type { RequestIdSchema } from '../../shared/commands/webSocketCommand.ts';
import { WebSocketResponseSchema } from '../../shared/commands/webSocketResponse.ts';
import { UnsubscribedEventSchema } from '../../shared/commands/unsubscribedEvent.ts';
import type { CommandConnection } from './CommandConnection.ts';
import { commandFailure } from './CommandFailure.ts';
import type { ParsedCommand } from './parseCommandFrame.ts';

type RequestId = z.infer<typeof RequestIdSchema>;

/** A command sent to the owner and not answered yet: what its answer restores. */
interface InFlight {
  readonly type: string;
  readonly requestId: RequestId | undefined;
  readonly roomId: string;
}

export interface OwnerCommandChannelDeps {
  readonly conn: CommandConnection;
  readonly logger: Logger;
  /** A command of `roomId` was answered by the owner, with this error code or none (the routes forget the room on owner_unavailable). */
  readonly answered: (roomId: string, error: string | null) => void;
  /** The channel ended (the owner closed it, or the link went); called once. */
  readonly lost: (channel: OwnerCommandChannel) => void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * The commands of one bot connection for the rooms one other node owns (docs/scale-out.md,
 * "Routing"): a channel of the link to that node, opened with `openCommandsAs` as the bot's user,
 * on which the owner serves them as its own commands. Answers and room events come back on it.
 *
 * The edge keeps the bot's request ids: each forwarded command carries the channel's own sequence
 * number as its `request_id`, and its answer gets the bot's back (or none, as sent), so the edge
 * knows exactly which commands are in flight whatever ids the bot chose (none, or one used twice).
 * When the channel ends (the owner died or stopped, the link dropped), every command in flight is
 * answered here `owner_unavailable` and every room joined through it gets `unsubscribed` with that
 * code: the bot joins again and resends, and its next command for the room is routed afresh.
 */
export class OwnerCommandChannel {
  readonly owner: string;
  readonly #deps: OwnerCommandChannelDeps;
  readonly #channel: ForwardedChannel;
  readonly #inFlight = new Map<number, InFlight>();
  /** Rooms joined through this channel (a join_room answered, no leave or unsubscribed since). */
  readonly #joined = new Set<string>();
  #nextSeq = 1;
  #ended = false;

  constructor(owner: string, open: (handlers: ForwardHandlers) => ForwardedChannel, deps: OwnerCommandChannelDeps) {
    this.owner = owner;
    this.#deps = deps;
    this.#channel = open({
      frame: (body) => this.#fromOwner(body),
      closed: (_code, _errorCode, reason) => this.#end(`the room's owner is unavailable: ${reason}`),
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Whether `roomId` is joined through this channel, or a join of it was sent and is not answered yet. */
  joins(roomId: string): boolean {
    if (this.#joined.has(roomId)) return true;
    for (const sent of this.#inFlight.values()) if (sent.type === 'join_room' && sent.roomId === roomId) return true;
    return false;
  }

  /** Sends a parsed command to the owner (its payload, with room_id, as the owner parses it again). */
  forward(command: ParsedCommand, requestId: RequestId | undefined): void {
    const { conn } = this.#deps;
    const roomId = command.payload.room_id;
    if (this.#ended) return conn.fail(command.command, requestId, commandFailure('owner_unavailable', "the room's owner is unavailable; retry"));
    const seq = this.#nextSeq++;
    this.#inFlight.set(seq, { type: command.command, requestId, roomId });
    this.#channel.send(encoder.encode(JSON.stringify({ command: command.command, data: command.payload, request_id: seq })));
  }

  /** The bot's connection closed: the channel closes on the owner (its subscriptions there end). */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#inFlight.clear();
    this.#joined.clear();
    this.#channel.close();
  }

  #fromOwner(body: Uint8Array): void {
    if (this.#ended) return;
    const { conn, logger } = this.#deps;
    let text = '';
    let frame;
    try {
      text = utf8.decode(body);
      frame = WebSocketResponseSchema.safeParse(JSON.parse(text));
    } catch {
      frame = null;
    }
    if (!frame?.success) {
      logger.error({ owner: this.owner, user: conn.user.id }, 'commands: malformed frame from the owner');
      this.#channel.close();
      return this.#end('malformed frame from the owner');
    }
    const response = frame.data;
    if (response.request_id === undefined) {
      // A room event, passed on as it came.
      if (response.type === 'unsubscribed') {
        const event = UnsubscribedEventSchema.safeParse(response.data);
        if (event.success) this.#joined.delete(event.data.room_id);
        // The room left that node: the next command of it is routed afresh.
        if (event.success && event.data.code === 'owner_unavailable') this.#deps.answered(event.data.room_id, 'owner_unavailable');
      }
      return conn.send(text);
    }
    const seq = response.request_id;
    const sent = typeof seq === 'number' ? this.#inFlight.get(seq) : undefined;
    if (typeof seq !== 'number' || !sent) return logger.error({ owner: this.owner, user: conn.user.id, seq }, 'commands: an answer from the owner matches no command');
    this.#inFlight.delete(seq);
    if (response.success && sent.type === 'join_room') this.#joined.add(sent.roomId);
    if (response.success && sent.type === 'leave_room') this.#joined.delete(sent.roomId);
    const { request_id: _seq, ...answer } = response;
    conn.send(JSON.stringify({ ...answer, ...(sent.requestId === undefined ? {} : { request_id: sent.requestId }) }));
    this.#deps.answered(sent.roomId, response.success ? null : response.error);
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const { conn } = this.#deps;
    const inFlight = [...this.#inFlight.values()];
    const joined = [...this.#joined];
    this.#inFlight.clear();
    this.#joined.clear();
    this.#deps.lost(this);
    // Maybe stored, maybe not: a send_message with its own message_id is resent safely (docs/commands.md).
    for (const sent of inFlight) conn.fail(sent.type, sent.requestId, commandFailure('owner_unavailable', `${reason}; retry`));
    for (const roomId of joined) conn.unsubscribed({ room_id: roomId, code: 'owner_unavailable', reason: `${reason}; join again` });
  }
}

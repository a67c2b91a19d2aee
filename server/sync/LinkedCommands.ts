import type { AuthUser } from '../auth/TokenVerifier.ts';
import type { ForwardHandlers, ForwardedChannel } from './ChannelRouter.ts';

/**
 * The command endpoint as the owner's end of a node link serves it (`openCommandsAs`,
 * docs/scale-out.md, "Routing"): one channel per bot connection of the other node, whose bodies
 * are the command protocol's JSON text. Implemented by CommandServer; the sync layer only carries
 * the channel, so it names this shape rather than importing the command layer.
 */
export interface LinkedCommands {
  /**
   * Attaches a command connection of `user`, held by another node. `edge` gets its answers and
   * events (`frame`) and its end from this side (`closed`); the returned channel takes its commands
   * (`send`) and its end from the other side (`close`).
   */
  openLinked(user: AuthUser, edge: ForwardHandlers): ForwardedChannel;
}

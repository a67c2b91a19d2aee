/** What the pacer sends to: a socket that says how much of what it was given still waits unsent. */
export interface PacedReceiver {
  readonly closed: boolean;
  /** Bytes queued on the socket and not yet handed to the kernel (ws bufferedAmount). */
  readonly bufferedBytes: number;
  send(frame: Uint8Array): void;
}

export interface FramePacerOptions {
  /**
   * Bytes handed to sockets per event-loop turn, over every receiver (default 256 KiB). On loopback
   * the sender's write also pays for the receiving side's TCP work: 1 MiB measured 15 ms a turn.
   */
  bytesPerTurn?: number;
  /** A receiver gets more only while less than this waits unsent on its socket (default 1 MiB). */
  highWaterBytes?: number;
  /** How long to wait before looking again when every receiver is still draining (default 10 ms). */
  drainPollMs?: number;
}

interface Run {
  readonly to: PacedReceiver;
  readonly frames: Uint8Array[];
  next: number;
}

/**
 * Sends long runs of frames (a big room's whole-room reply: hundreds of 16 KiB frames per joiner)
 * a budget of bytes per event-loop turn, shared round-robin by every receiver waiting, and to each
 * receiver only as fast as its socket drains. Without it, twenty joiners of a 25 MiB room have
 * 500 MiB written in one turn (about 100 ms during which no other room commits, relays or
 * acknowledges), and a joiner on a slow link has the whole room queued in server memory, over the
 * slow-consumer limit. Frames of one receiver go out in the order given; other frames sent to the
 * same socket meanwhile (relayed updates, acks) may come between them, which Yjs tolerates: an
 * update whose dependencies have not arrived waits in the client's pending structs.
 */
export class FramePacer {
  readonly #bytesPerTurn: number;
  readonly #highWater: number;
  readonly #drainPollMs: number;
  readonly #runs = new Map<PacedReceiver, Run>();
  #timer: { readonly cancel: () => void } | null = null;
  #stopped = false;

  constructor(opts: FramePacerOptions = {}) {
    this.#bytesPerTurn = opts.bytesPerTurn ?? 256 * 1024;
    this.#highWater = opts.highWaterBytes ?? 1024 * 1024;
    this.#drainPollMs = opts.drainPollMs ?? 10;
  }

  /** Receivers with frames still to send. */
  get waiting(): number {
    return this.#runs.size;
  }

  /** Queues `frames` for `to`, after any it still waits for; the first go out within this turn's budget. */
  send(to: PacedReceiver, frames: readonly Uint8Array[]): void {
    if (this.#stopped || to.closed || frames.length === 0) return;
    const run = this.#runs.get(to);
    if (run) {
      run.frames.push(...frames);
      return;
    }
    this.#runs.set(to, { to, frames: [...frames], next: 0 });
    if (this.#runs.size === 1 && this.#timer === null) this.#turn();
  }

  /** Drops everything still queued (shutdown). */
  stop(): void {
    this.#stopped = true;
    this.#runs.clear();
    this.#cancel();
  }

  readonly #turn = (): void => {
    this.#timer = null;
    let budget = this.#bytesPerTurn;
    let sent = false;
    // Round robin: each pass gives every ready receiver one frame, until the budget is spent.
    while (budget > 0) {
      let progressed = false;
      for (const run of this.#runs.values()) {
        if (run.to.closed) {
          this.#runs.delete(run.to);
          continue;
        }
        if (run.to.bufferedBytes >= this.#highWater) continue;
        const frame = run.frames[run.next];
        if (!frame) continue;
        run.frames[run.next++] = EMPTY;
        run.to.send(frame);
        budget -= frame.byteLength;
        progressed = sent = true;
        if (run.next === run.frames.length) this.#runs.delete(run.to);
        if (budget <= 0) break;
      }
      if (!progressed) break;
    }
    if (this.#runs.size === 0) return;
    // Still to send: next turn, or after a pause when every receiver is waiting for its socket to drain.
    if (sent) {
      const immediate = setImmediate(this.#turn);
      this.#timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(this.#turn, this.#drainPollMs);
      this.#timer = { cancel: () => clearTimeout(timeout) };
    }
  };

  #cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}

const EMPTY = new Uint8Array(0);

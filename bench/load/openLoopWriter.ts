import type { Figure } from '../scenario.ts';
import { median } from '../stats.ts';
import { createMessage } from '../../shared/roomDoc/messageOps.ts';
import { type FanoutRoom, openFanoutRoom } from './fanoutRoom.ts';
import { collectGarbage, loadGeneratorDelay } from './peerRun.ts';
import type { Probe, RunningPeer } from './peerServer.ts';
import { type Session, sleep } from './session.ts';

/*
 * The open-loop writer of the fan-out scenarios: one writer sends at a fixed rate whatever the
 * server does, N observers timestamp every update, and latency is measured from each message's
 * scheduled send time, so a stall shows in full (no coordinated omission). One room can be timed
 * in several windows in a row (the noisy-neighbour scenario times the same small room against
 * different disturbances).
 */

export interface WindowOptions {
  /** Messages sent before the timed ones, excluded from every figure. */
  readonly warmup: number;
  readonly messages: number;
  readonly ratePerSecond: number;
  readonly content: (i: number) => string;
  /** Called before timed message `i` is sent (0-based), so a scenario can start a disturbance at a known time. */
  readonly beforeTimed?: (i: number) => void;
}

export interface WindowResult {
  /** Scheduled-send-to-arrival times of every timed message at every observer, in ms. */
  readonly latencies: number[];
  readonly cpuMsPerMessage: number;
  readonly rssBytes: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** The server's group commits in the timed window (Parley only; count 0 for the peers): their time on its main thread. */
  readonly commits: Probe['commits'];
  readonly generatorLagMaxMs: number;
}

export class OpenLoopWriter {
  readonly #server: RunningPeer;
  readonly #session: Session;
  readonly #observers: number;
  #room: FanoutRoom | null = null;
  readonly #arrivals: number[] = [];
  #timed = { from: Infinity, to: -Infinity };
  #latencies: number[] = [];
  #sent = 0;
  #lastDelivered: (() => void) | null = null;

  private constructor(server: RunningPeer, session: Session, observers: number) {
    this.#server = server;
    this.#session = session;
    this.#observers = observers;
  }

  /** A room of one writer and `observers` observers on `server`, every one synced and settled. */
  static async open(server: RunningPeer, session: Session, observers: number, settleMs: number): Promise<OpenLoopWriter> {
    const writer = new OpenLoopWriter(server, session, observers);
    writer.#room = await openFanoutRoom(server, session, observers, writer.#onDelivery, settleMs);
    return writer;
  }

  /**
   * Warms a freshly started server up before the windows a scenario compares: one untimed window
   * (`opts`) in a room of its own, so the timed room does not grow. A fresh server's first seconds
   * are slower (JIT, caches, a heap still growing): with nothing else running, the first of three
   * windows in a row had a p99 1.2 to 2.1 times the second's in twelve runs (README, "Search and
   * attachments"), which counts against whichever window is first. The warm-up room's sockets stay
   * open (closed with `session`): closed, the room would unload 30 s later, inside a timed window.
   */
  static async warmUp(server: RunningPeer, session: Session, observers: number, settleMs: number, opts: WindowOptions): Promise<void> {
    const writer = await OpenLoopWriter.open(server, session, observers, settleMs);
    await writer.window(opts);
  }

  /** Sends `warmup + messages` at the rate, then waits until every observer has every one. */
  async window(opts: WindowOptions): Promise<WindowResult> {
    const room = this.#room;
    if (!room) throw new Error('not open');
    const first = this.#sent;
    const total = opts.warmup + opts.messages;
    this.#timed = { from: first + opts.warmup, to: first + total };
    this.#latencies = [];
    collectGarbage();
    const delivered = new Promise<void>((resolve) => (this.#lastDelivered = resolve));
    const intervalMs = 1000 / opts.ratePerSecond;
    const start = performance.now();
    let usage = { cpuMs: 0 };
    for (let i = 0; i < total; i++) {
      const scheduled = start + i * intervalMs;
      const wait = scheduled - performance.now();
      if (wait > 1) await sleep(wait);
      if (i === opts.warmup) {
        loadGeneratorDelay();
        usage = await this.#server.usage();
        await this.#server.probe({ resetDelay: true });
      }
      if (i >= opts.warmup) opts.beforeTimed?.(i - opts.warmup);
      const result = createMessage(room.doc, room.writerMember.actor, { content: opts.content(first + i) });
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      // Timed from when it was due, not when the loop got to it.
      room.log.record(room.doc, scheduled);
      this.#sent++;
      this.#session.check();
    }
    await this.#session.wait(delivered, 'every observer has every message');
    const generatorLag = loadGeneratorDelay();
    const end = await this.#server.usage();
    const probe = await this.#server.probe();
    return {
      latencies: this.#latencies,
      cpuMsPerMessage: (end.cpuMs - usage.cpuMs) / opts.messages,
      rssBytes: end.rssBytes,
      loopDelayP99Ms: probe.delay.p99Ms,
      loopDelayMaxMs: probe.delay.maxMs,
      commits: probe.commits,
      generatorLagMaxMs: generatorLag.maxMs,
    };
  }

  readonly #onDelivery = (_writer: number, index: number, latencyMs: number): void => {
    const count = (this.#arrivals[index] = (this.#arrivals[index] ?? 0) + 1);
    if (index >= this.#timed.from && index < this.#timed.to) this.#latencies.push(latencyMs);
    if (index === this.#timed.to - 1 && count === this.#observers) this.#lastDelivered?.();
  };
}

/**
 * The server's group-commit time in two windows, as two figures: each window's commit p99 (its
 * main-thread time, fsync included), noting the other window's and where the time goes (how
 * many commits and their total). A fan-out p99 is bounded below by the commit it waits for.
 */
export function commitFigures(label: { base: string; other: string }, base: readonly WindowResult[], other: readonly WindowResult[]): Figure[] {
  const of = (windows: readonly WindowResult[], pick: (c: WindowResult['commits']) => number): number => median(windows.map((w) => pick(w.commits)));
  const detail = (windows: readonly WindowResult[]): string =>
    `p50 ${of(windows, (c) => c.p50Ms).toFixed(2)} ms, max ${of(windows, (c) => c.maxMs).toFixed(1)} ms, ${of(windows, (c) => c.count).toFixed(0)} commits taking ${of(windows, (c) => c.totalMs).toFixed(0)} ms`;
  return [
    { metric: `${label.base}: group commit p99`, value: of(base, (c) => c.p99Ms), unit: 'ms', note: `the server's main thread, fsync included; ${detail(base)}`, better: 'lower' },
    { metric: `${label.other}: group commit p99`, value: of(other, (c) => c.p99Ms), unit: 'ms', note: detail(other), better: 'lower' },
  ];
}

/**
 * The contract between the harness (bench/run.ts) and a benchmark. A scenario measures one thing
 * and returns its figures; the harness runs it, prints the figures and records them.
 *
 * A scenario owns whatever it needs for the run (documents, and later child processes, servers or
 * load generators) and must release it before `run` resolves. New fields for such scenarios go
 * into `RunOptions`, so existing scenarios keep compiling.
 */

/**
 * One reported number. `metric` (with `peer`, when set) is unique within its scenario and stable
 * across runs. Figures of one metric for several peers form one row of the comparison table.
 */
export interface Figure {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
  /** The server measured, for scenarios that run Parley and its peers (bench/load/peerServer.ts PEERS). */
  readonly peer?: string;
  /** Which way is better, for ratios and targets. */
  readonly better?: 'lower' | 'higher';
}

export interface RunOptions {
  /** The default run: sizes that finish in seconds. `--full` sets it to false. */
  readonly quick: boolean;
  /** Servers the peer scenarios run (`--peers a,b`); all of them when absent. */
  readonly peers?: readonly string[];
}

export interface Scenario {
  /** Short, kebab- or camelCase, used by `--only`. */
  readonly name: string;
  /** One line: what is measured, on what. */
  readonly description: string;
  run(opts: RunOptions): Promise<Figure[]>;
}

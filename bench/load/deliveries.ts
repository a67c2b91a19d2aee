import * as Y from 'yjs';

/*
 * Send-to-receive latency without decoding documents at the receivers. Every message a writer
 * sends is one Yjs transaction, so it is identified by its writer's client id and the clock its
 * doc reached (Y.getState after the transaction). A receiver reads only the state-vector range of
 * each update it gets (Y.parseUpdateMeta: struct headers, no integration), and every message of
 * that writer whose end clock the range reaches has arrived. Updates on one socket arrive in
 * order on every server here, so each receiver keeps a cursor per writer.
 */

interface Sent {
  readonly ends: number[];
  readonly times: number[];
}

export class SendLog {
  readonly #byClient = new Map<number, Sent>();

  /** Records that `doc` just sent its newest transaction at `at`; returns the message's index for that writer. */
  record(doc: Y.Doc, at: number): number {
    return this.recordClock(doc.clientID, Y.getState(doc.store, doc.clientID), at);
  }

  /** Records a message written earlier (its doc reached `endClock`) and sent at `at`. */
  recordClock(clientId: number, endClock: number, at: number): number {
    let sent = this.#byClient.get(clientId);
    if (!sent) this.#byClient.set(clientId, (sent = { ends: [], times: [] }));
    sent.ends.push(endClock);
    sent.times.push(at);
    return sent.ends.length - 1;
  }

  sent(clientId: number): Sent | undefined {
    return this.#byClient.get(clientId);
  }
}

export type DeliveryListener = (writer: number, index: number, latencyMs: number, at: number) => void;

/** One receiving client's view: which message of each writer it has up to. */
export class Receiver {
  readonly #log: SendLog;
  readonly #self: number | null;
  readonly #onDelivery: DeliveryListener;
  readonly #cursor = new Map<number, number>();

  constructor(log: SendLog, onDelivery: DeliveryListener, selfClientId: number | null = null) {
    this.#log = log;
    this.#onDelivery = onDelivery;
    this.#self = selfClientId;
  }

  /** Pass as a client's onUpdate. */
  readonly onUpdate = (update: Uint8Array, at: number): void => {
    const { to } = Y.parseUpdateMeta(update);
    for (const [client, clock] of to) {
      if (client === this.#self) continue;
      const sent = this.#log.sent(client);
      if (!sent) continue;
      let i = this.#cursor.get(client) ?? 0;
      while (i < sent.ends.length && (sent.ends[i] ?? Infinity) <= clock) {
        this.#onDelivery(client, i, at - (sent.times[i] ?? at), at);
        i++;
      }
      this.#cursor.set(client, i);
    }
  };

  /** How many messages of `writer` this receiver has. */
  count(writer: number): number {
    return this.#cursor.get(writer) ?? 0;
  }
}

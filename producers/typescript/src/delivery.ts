/**
 * Where emitted messages go. Live: batches go to the transport, one send at a time (what arrives
 * meanwhile forms the next batch); a failed send puts its messages in the spool and switches to
 * spooling. Spooling: messages go to the spool behind the ones there while the spool is replayed
 * in order; once it is empty, live again. A full queue spools at once: `emit` never waits.
 */
import type { Metrics } from './metrics.js';
import type { Spool } from './spool.js';
import type { OutgoingMessage, Transport } from './transport.js';

export interface DeliveryOptions {
  /** Messages waiting in memory for the transport; past it, they go to the spool (default 65536). */
  queueSize?: number;
  /** Largest batch one send carries (default 10000). */
  maxBatch?: number;
  /** Records one replay step sends (default 500). */
  replayBatch?: number;
  /** Called with a line worth logging (default: `console.warn`). */
  log?: (line: string) => void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export class Delivery {
  private readonly queue: OutgoingMessage[] = [];
  private inFlight: readonly OutgoingMessage[] = [];
  private sending: Promise<void> | null = null;
  private replaying: Promise<void> | null = null;
  private scheduled = false;
  private spooling: boolean;
  private stopped = false;
  private backoffMs = MIN_BACKOFF_MS;
  private timer: NodeJS.Timeout | null = null;
  private readonly queueSize: number;
  private readonly maxBatch: number;
  private readonly replayBatch: number;
  private readonly log: (line: string) => void;

  constructor(
    private readonly transport: Transport,
    private readonly spool: Spool,
    private readonly metrics: Metrics,
    options: DeliveryOptions = {},
  ) {
    this.queueSize = options.queueSize ?? 65_536;
    this.maxBatch = options.maxBatch ?? 10_000;
    this.replayBatch = options.replayBatch ?? 500;
    this.log = options.log ?? ((line) => console.warn(line));
    this.spooling = spool.pending > 0; // left-overs of an earlier run go first
    if (this.spooling) this.scheduleReplay(0);
  }

  /** Takes one message; never waits and never throws for delivery problems. */
  send(message: OutgoingMessage): void {
    if (this.spooling) {
      this.toSpool(message);
      return;
    }
    if (this.queue.length >= this.queueSize) {
      this.enterSpooling("the SDK's queue is full", [message]);
      return;
    }
    this.queue.push(message);
    if (!this.scheduled && this.sending === null) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Messages neither acknowledged by the transport nor in the spool. */
  get unsettled(): number {
    return this.queue.length + this.inFlight.length;
  }

  /** True while messages go to the spool. */
  get isSpooling(): boolean {
    return this.spooling;
  }

  /** Resolves when nothing is unsettled, or after `timeoutMs`; returns what is still unsettled. */
  async settle(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.unsettled > 0 && Date.now() < deadline) {
      if (this.sending !== null) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
        await Promise.race([this.sending, timeout]);
        clearTimeout(timer);
      } else {
        await sleep(1);
      }
    }
    return this.unsettled;
  }

  /** Stops sending: what is still queued or in flight goes to the spool; waits for a replay step. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const m of this.queue.splice(0)) this.toSpool(m);
    if (this.inFlight.length > 0) {
      // Not acknowledged in time: spooled, so delivered by the next run (at least once).
      for (const m of this.inFlight) this.toSpool(m);
      this.inFlight = [];
    }
    await this.replaying?.catch(() => undefined);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.sending !== null || this.queue.length === 0 || this.stopped) return;
    if (this.spooling) {
      for (const m of this.queue.splice(0)) this.toSpool(m);
      return;
    }
    const batch = this.queue.splice(0, this.maxBatch);
    this.inFlight = batch;
    this.sending = this.transport.send(batch).then(
      () => {
        if (this.inFlight !== batch) return; // given up at stop(): spooled already
        this.metrics.inc('dua_sdk_events_delivered_total', batch.length);
      },
      (error: unknown) => {
        if (this.inFlight !== batch) return;
        this.metrics.inc('dua_sdk_delivery_failures_total', batch.length);
        this.enterSpooling(String(error), batch);
      },
    ).finally(() => {
      if (this.inFlight === batch) this.inFlight = [];
      this.sending = null;
      if (this.queue.length > 0) this.drain();
    });
  }

  /** Spools `first`, then what is queued (in emit order), and replays from now on. */
  private enterSpooling(reason: string, first: readonly OutgoingMessage[]): void {
    for (const m of first) this.toSpool(m);
    if (this.spooling) return;
    this.spooling = true;
    this.log(`dua: audit events go to the spool until Kafka takes them again: ${reason}`);
    for (const m of this.queue.splice(0)) this.toSpool(m);
    this.scheduleReplay(this.backoffMs);
  }

  private scheduleReplay(delayMs: number): void {
    if (this.stopped || this.timer !== null || this.replaying !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.replaying = this.replayStep().then((next) => {
        this.replaying = null;
        if (next !== null) this.scheduleReplay(next);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Sends one batch of spooled records; the delay before the next step, or null once live again. */
  private async replayStep(): Promise<number | null> {
    // Wait for a live send still in flight: its failures must be spooled before the replay reads.
    await this.sending?.catch(() => undefined);
    let batch;
    try {
      batch = this.spool.next(this.replayBatch);
    } catch (error) {
      this.log(`dua: cannot read the spool: ${String(error)}`);
      return this.backoff();
    }
    if (batch === null) {
      this.spooling = false;
      this.backoffMs = MIN_BACKOFF_MS;
      this.log('dua: the audit spool is empty: events go to Kafka directly again');
      return null;
    }
    try {
      await this.transport.send(batch.records);
    } catch (error) {
      this.log(`dua: replay stopped: ${String(error)}`);
      return this.backoff();
    }
    try {
      this.spool.settle(batch, batch.records.length);
    } catch (error) {
      this.log(`dua: cannot write the spool's ack cursor: ${String(error)}`);
    }
    this.metrics.inc('dua_sdk_events_delivered_total', batch.records.length);
    this.metrics.inc('dua_sdk_events_replayed_total', batch.records.length);
    this.backoffMs = MIN_BACKOFF_MS;
    return 0;
  }

  private backoff(): number {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    return delay;
  }

  private toSpool(m: OutgoingMessage): void {
    if (this.spool.append(m.topic, m.key, m.value)) {
      this.metrics.inc('dua_sdk_events_spooled_total');
    } else {
      this.metrics.inc('dua_sdk_events_dropped_total');
      this.log('dua: DROPPED an audit event: the spool is full or unwritable and Kafka does not take it');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

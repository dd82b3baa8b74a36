/** Test helpers for services: capture what the SDK would send, without Kafka. */
import { decode, type DecodedRecord } from './codec.js';
import type { OutgoingMessage, Transport } from './transport.js';

/**
 * A transport that keeps every message in memory; pass it as `transport` to
 * `createAuditClient` and read `events()` after `await audit.flush()`.
 */
export class MemoryTransport implements Transport {
  readonly messages: OutgoingMessage[] = [];
  /** While set, sends fail with this error (to test spooling). */
  failWith: Error | null = null;

  send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failWith !== null) return Promise.reject(this.failWith);
    this.messages.push(...messages);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The records sent so far, decoded (single-object framing). */
  events(): DecodedRecord[] {
    return this.messages.map((m) => decode(m.value));
  }
}

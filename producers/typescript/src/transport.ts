/** Delivery behind a small interface: Kafka, or in memory for tests. */

/** One message on its way: a topic, the key (the subject's pseudonym or the event id), the value. */
export interface OutgoingMessage {
  topic: string;
  key: Buffer;
  value: Buffer;
}

export interface Transport {
  /** Resolves once the broker acknowledged every message (acks=all); rejects when it did not. */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

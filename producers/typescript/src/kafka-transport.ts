/**
 * The Kafka transport on `@platformatic/kafka`: an idempotent producer with `acks=all`. After a
 * failed send the producer is replaced, so its sequence numbers start fresh when the broker is back.
 *
 * A send that neither resolves nor rejects within `deliveryTimeoutMs` fails (seen with 1.35.0:
 * with `retries` 0 or 1 and no broker listening, `send` never settles).
 */
import { compatibilityPartitioner, Producer, ProduceAcks, type ProducerOptions } from '@platformatic/kafka';
import type { OutgoingMessage, Transport } from './transport.js';

/** Settings of the Kafka transport; `options` adds or overrides any `@platformatic/kafka` producer option. */
export interface KafkaTransportOptions {
  bootstrap: string | readonly string[];
  clientId: string;
  /** Per request, in ms (default 5000). */
  timeoutMs?: number;
  /** Retries of a failed request before the send fails and its events go to the spool (default 3). */
  retries?: number;
  /** Longest one send may take before it counts as failed (default 30000). */
  deliveryTimeoutMs?: number;
  options?: Partial<ProducerOptions<Buffer, Buffer, Buffer, Buffer>>;
}

type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

export class KafkaTransport implements Transport {
  private readonly settings: ProducerOptions<Buffer, Buffer, Buffer, Buffer>;
  private producer: BufferProducer | null = null;
  private readonly deliveryTimeoutMs: number;

  constructor(options: KafkaTransportOptions) {
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;
    const brokers = typeof options.bootstrap === 'string' ? options.bootstrap.split(',') : [...options.bootstrap];
    this.settings = {
      clientId: options.clientId,
      bootstrapBrokers: brokers.map((b) => b.trim()).filter((b) => b !== ''),
      idempotent: true,
      acks: ProduceAcks.ALL,
      timeout: options.timeoutMs ?? 5000,
      retries: Math.max(2, options.retries ?? 3), // fewer: see the class comment
      retryDelay: 250,
      autocreateTopics: false,
      // murmur2 & 0x7fffffff, as Java's client and the Python SDK (murmur2_random): one subject's
      // events land on the same partition whichever SDK emits them.
      partitioner: compatibilityPartitioner,
      ...options.options,
    };
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    this.producer ??= new Producer(this.settings);
    const producer = this.producer;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no acknowledgement within ${this.deliveryTimeoutMs} ms`)),
        this.deliveryTimeoutMs,
      );
    });
    try {
      const sent = producer.send({ messages: messages.map((m) => ({ topic: m.topic, key: m.key, value: m.value })) });
      await Promise.race([sent, deadline]);
    } catch (error) {
      if (this.producer === producer) this.producer = null;
      producer.close().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    if (producer !== null) await producer.close();
  }
}

/** The dua audit SDK: report accesses to personal data, by element code, to Kafka. */
export { decode, type DecodedRecord } from './codec.js';
export { createAuditClient, type Access, type AuditClient, type AuditClientOptions, type ConsentChange } from './client.js';
export {
  ACTOR_KINDS,
  DESTINATION_KINDS,
  ELEMENT_CODES,
  OPERATIONS,
  PROCESSING,
  PURPOSES,
  type ActorKind,
  type DestinationKind,
  type ElementCode,
  type Operation,
  type Processing,
  type Purpose,
} from './contracts.js';
export type { DeliveryOptions } from './delivery.js';
export { ClientClosedError, DuaError, InvalidEventError, UndecodableError } from './errors.js';
export type { KafkaTransportOptions } from './kafka-transport.js';
export { METRIC_HELP, type MetricName, type Stats } from './metrics.js';
export { pseudonymize, Uuid, type SubjectId } from './pseudonym.js';
export type { AccessRecord, ConsentRecord } from './records.js';
export { MemoryTransport } from './testing.js';
export type { OutgoingMessage, Transport } from './transport.js';

/**
 * Reports accesses to personal data and consent changes to the audit pipeline. Create one per
 * process at start-up with {@link createAuditClient}, `await close()` it at shutdown.
 */
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import {
  accessMessage,
  confluentHeader,
  consentMessage,
  CONSENT_CHANGE_FINGERPRINT,
  DATA_ACCESS_EVENT_FINGERPRINT,
  singleObjectHeader,
} from './codec.js';
import {
  CONSENT_CHANGE_SCHEMA,
  DATA_ACCESS_EVENT_SCHEMA,
  type ActorKind,
  type DestinationKind,
  type ElementCode,
  type Operation,
  type Processing,
  type Purpose,
} from './contracts.js';
import { Delivery, type DeliveryOptions } from './delivery.js';
import { ClientClosedError, DuaError, InvalidEventError } from './errors.js';
import { KafkaTransport, type KafkaTransportOptions } from './kafka-transport.js';
import { Metrics, type Stats } from './metrics.js';
import { Pseudonymizer, type SubjectId } from './pseudonym.js';
import type { AccessRecord, ConsentRecord } from './records.js';
import { registerSchema } from './schema-registry.js';
import { Spool } from './spool.js';
import { isBlank } from './text.js';
import type { Transport } from './transport.js';
import { checkAccess, checkConsent } from './validation.js';

/** A known code, or any other string (the pipeline reports unknown codes as findings). */
type Open<T extends string> = T | (string & Record<never, never>);

/** One access to personal data: which elements, for which purpose, sent where. Codes only, never values. */
export interface Access {
  /** Element codes, e.g. `user.name` (non-empty). */
  elements: readonly Open<ElementCode>[];
  purpose?: Open<Purpose> | null;
  /** The raw id of the person; only its pseudonym leaves the process. */
  subject?: SubjectId | null;
  operation?: Operation;
  processing?: Processing;
  /** Where the data went (`INTERNAL` by default) and the recipient's name. */
  destination?: DestinationKind;
  destinationName?: string | null;
  originService?: string | null;
  targetingOptOut?: boolean;
  publicationConsent?: boolean;
  payrollOtherUseConsent?: boolean;
  recordCount?: number;
  traceId?: string | null;
  attributes?: Readonly<Record<string, string>>;
  /** A fixed event id (a UUID); a random one by default. */
  eventId?: string;
  /** When the access happened (a `Date`, epoch ms, or an ISO-8601 time with an offset); now by default. */
  occurredAt?: Date | number | string;
  actorKind?: ActorKind;
  actorId?: string;
}

/** A subject's complete current consent choices (an omitted flag means "not given"). */
export interface ConsentChange {
  subject: SubjectId;
  targetingOptOut?: boolean;
  publicationConsent?: boolean;
  payrollOtherUseConsent?: boolean;
  /** Consent to provide informative data to a recipient who can link it to the person (APPI Art. 31). */
  thirdPartyLinkConsent?: boolean;
}

export interface AuditClientOptions {
  /** This service's code, e.g. `jalan`. */
  service: string;
  /** The company-wide HMAC key of subject pseudonyms (at least 16 characters). */
  subjectKey: string;
  /** Kafka bootstrap servers (`host:port,...`); required unless `transport` is given. */
  bootstrap?: string | readonly string[];
  /** Where events wait when Kafka does not take them; one process per directory (locked). */
  spoolDirectory: string;
  /** A Confluent-compatible schema registry: messages then carry Confluent framing. */
  registryUrl?: string;
  actorKind?: ActorKind;
  actorId?: string;
  topicRaw?: string;
  topicConsent?: string;
  /** Epoch milliseconds (default `Date.now`). */
  clock?: () => number;
  spoolMaxBytes?: number;
  spoolSegmentBytes?: number;
  /** Where the counters are registered (default: prom-client's default registry; null: none). */
  metricsRegistry?: Registry | null;
  /** Settings of the Kafka transport beyond `bootstrap`. */
  kafka?: Omit<KafkaTransportOptions, 'bootstrap' | 'clientId'>;
  /** A transport to use instead of Kafka (tests: `MemoryTransport`). */
  transport?: Transport;
  delivery?: DeliveryOptions;
}

export interface AuditClient {
  /** Reports one access; returns its event id at once. Throws `InvalidEventError` before anything is sent. */
  emit(access: Access): string;
  /** Reports a subject's consent choices (a ConsentChange on the consent topic). */
  emitConsent(change: ConsentChange): void;
  /** The pseudonym events carry for `rawId` (answer subject-access requests with it). */
  pseudonym(rawId: SubjectId): string;
  /** Waits until every event is acknowledged by Kafka or on disk in the spool; resolves to how many are not. */
  flush(timeoutMs?: number): Promise<number>;
  /** Delivers what can be within `timeoutMs`, spools the rest and stops; later calls throw. */
  close(timeoutMs?: number): Promise<void>;
  /** What this client counted. */
  stats(): Stats;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch milliseconds of an `occurredAt`. */
export function toMillis(value: Date | number | string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new InvalidEventError('occurred_at', 'not_timestamp', 'is an invalid Date');
    return ms;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new InvalidEventError('occurred_at', 'not_timestamp', 'must be integer epoch ms');
    return value;
  }
  if (typeof value !== 'string') throw new InvalidEventError('occurred_at', 'wrong_type', 'must be a Date, a number or a string');
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidEventError('occurred_at', 'not_timestamp', `'${value}' is not an ISO-8601 time`);
  if (!ISO_WITH_OFFSET.test(value)) throw new InvalidEventError('occurred_at', 'no_timezone', 'must carry Z or an offset');
  return ms;
}

class Client implements AuditClient {
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly pseudonyms: Pseudonymizer;

  constructor(
    private readonly options: AuditClientOptions,
    private readonly accessHeader: Buffer,
    private readonly consentHeader: Buffer,
    private readonly spool: Spool,
    private readonly transport: Transport,
    private readonly metrics: Metrics,
    private readonly delivery: Delivery,
  ) {
    this.pseudonyms = new Pseudonymizer(options.subjectKey);
  }

  emit(access: Access): string {
    this.checkOpen();
    const o = this.options;
    const subjectId = access.subject === undefined || access.subject === null
      ? null : this.pseudonyms.pseudonym(access.subject);
    const eventId = access.eventId ?? randomUUID();
    const record: AccessRecord = {
      event_id: eventId,
      occurred_at: access.occurredAt === undefined ? (o.clock ?? Date.now)() : toMillis(access.occurredAt),
      service: o.service,
      actor: { kind: access.actorKind ?? o.actorKind ?? 'SERVICE', id: access.actorId ?? o.actorId ?? o.service },
      subject_id: subjectId,
      elements: access.elements as string[],
      purpose: access.purpose ?? null,
      operation: access.operation ?? 'READ',
      processing: access.processing ?? 'RAW',
      destination: { kind: access.destination ?? 'INTERNAL', name: access.destinationName ?? null },
      origin_service: access.originService ?? null,
      consent: {
        targeting_opt_out: access.targetingOptOut ?? false,
        publication_consent: access.publicationConsent ?? false,
        payroll_other_use_consent: access.payrollOtherUseConsent ?? false,
      },
      record_count: access.recordCount ?? 1,
      trace_id: access.traceId ?? null,
      attributes: (access.attributes ?? {}) as Record<string, string>,
    };
    checkAccess(record);
    const value = accessMessage(this.accessHeader, record);
    this.metrics.inc('dua_sdk_events_emitted_total');
    this.delivery.send({ topic: o.topicRaw ?? 'dua.access.raw', key: Buffer.from(subjectId ?? eventId, 'utf8'), value });
    return eventId;
  }

  emitConsent(change: ConsentChange): void {
    this.checkOpen();
    const subjectId = this.pseudonyms.pseudonym(change.subject);
    const record: ConsentRecord = {
      subject_id: subjectId,
      occurred_at: (this.options.clock ?? Date.now)(),
      targeting_opt_out: change.targetingOptOut ?? false,
      publication_consent: change.publicationConsent ?? false,
      payroll_other_use_consent: change.payrollOtherUseConsent ?? false,
      third_party_link_consent: change.thirdPartyLinkConsent ?? false,
    };
    checkConsent(record);
    const value = consentMessage(this.consentHeader, record);
    this.metrics.inc('dua_sdk_events_emitted_total');
    this.delivery.send({ topic: this.options.topicConsent ?? 'dua.consent', key: Buffer.from(subjectId, 'utf8'), value });
  }

  pseudonym(rawId: SubjectId): string {
    return this.pseudonyms.pseudonym(rawId);
  }

  async flush(timeoutMs = 10_000): Promise<number> {
    const left = await this.delivery.settle(timeoutMs);
    this.spool.sync();
    return left;
  }

  close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.delivery.settle(timeoutMs);
      await this.delivery.stop();
      try {
        await this.transport.close();
      } finally {
        this.spool.close();
      }
    })();
    return this.closing;
  }

  stats(): Stats {
    return this.metrics.snapshot(this.spool.pending);
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError('the audit client is closed; emit before close()');
  }
}

/**
 * Starts a client: takes the spool directory (its lock) and replays what an earlier run left
 * there. Rejects with a `DuaError` for missing settings or a spool directory in use.
 */
export async function createAuditClient(options: AuditClientOptions): Promise<AuditClient> {
  if (typeof options.service !== 'string' || isBlank(options.service)) throw new DuaError('service must not be empty');
  if (typeof options.subjectKey !== 'string' || options.subjectKey.length < 16) {
    throw new DuaError('subjectKey must be at least 16 characters');
  }
  if (!options.spoolDirectory) throw new DuaError('spoolDirectory is required');
  if (options.transport === undefined && options.bootstrap === undefined) {
    throw new DuaError('bootstrap is required (or a transport)');
  }
  let accessHeader = singleObjectHeader(DATA_ACCESS_EVENT_FINGERPRINT);
  let consentHeader = singleObjectHeader(CONSENT_CHANGE_FINGERPRINT);
  if (options.registryUrl !== undefined) {
    accessHeader = confluentHeader(await registerSchema(options.registryUrl, 'dua.audit.DataAccessEvent', DATA_ACCESS_EVENT_SCHEMA));
    consentHeader = confluentHeader(await registerSchema(options.registryUrl, 'dua.audit.ConsentChange', CONSENT_CHANGE_SCHEMA));
  }
  const spool = await Spool.open(options.spoolDirectory, options.spoolMaxBytes, options.spoolSegmentBytes);
  const transport = options.transport ?? new KafkaTransport({
    ...options.kafka,
    bootstrap: options.bootstrap as string | readonly string[],
    clientId: `dua-producer.${options.service}`,
  });
  const metrics = new Metrics(options.metricsRegistry);
  const delivery = new Delivery(transport, spool, metrics, options.delivery);
  return new Client(options, accessHeader, consentHeader, spool, transport, metrics, delivery);
}

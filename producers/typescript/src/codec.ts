/**
 * The wire format: Avro single-object encoding (`C3 01`, the CRC-64-AVRO fingerprint
 * little-endian, the body) or Confluent framing (`00`, a 4-byte big-endian schema id, the body).
 *
 * avsc writes a map in JavaScript's key order (integer-like keys first), so the writer types
 * encode `attributes` as an array of `{key, value}` records sorted by the UTF-8 bytes of the keys:
 * an Avro map and such an array have the same bytes. Decoding uses the released schemas.
 */
import avsc from 'avsc';
import { CONSENT_CHANGE_SCHEMA, DATA_ACCESS_EVENT_SCHEMA } from './contracts.js';
import { UndecodableError } from './errors.js';
import type { AccessRecord, ConsentRecord } from './records.js';
import { sortedEntries } from './text.js';

/** The pinned fingerprints (conformance suite, schemas section); a test checks avsc's schema agrees. */
export const DATA_ACCESS_EVENT_FINGERPRINT = 3709194380617373610n;
export const CONSENT_CHANGE_FINGERPRINT = 2426751406114570129n;

const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;
const CRC64_TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp & MASK;
});

/** CRC-64-AVRO of `bytes` (the Rabin fingerprint of the Avro specification), unsigned. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ (CRC64_TABLE[Number((fp ^ BigInt(b)) & 0xffn)] as bigint);
  return fp;
}

/** The Avro parsing canonical form of a schema. */
export function canonicalForm(schema: object): string {
  return JSON.stringify(avsc.Type.forSchema(schema as avsc.Schema).schema());
}

/** The 64-bit fingerprint of a schema, as a signed value (like Java's `long`). */
export function fingerprint(schema: object): bigint {
  return BigInt.asIntN(64, crc64Avro(Buffer.from(canonicalForm(schema), 'utf8')));
}

export function singleObjectHeader(fp: bigint): Buffer {
  const header = Buffer.alloc(10);
  header[0] = 0xc3;
  header[1] = 0x01;
  header.writeBigInt64LE(fp, 2);
  return header;
}

export function confluentHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return header;
}

function writerSchema(schema: object): avsc.Schema {
  const copy = structuredClone(schema) as { fields: { name: string; type: unknown }[] };
  for (const field of copy.fields) {
    if (field.name === 'attributes') {
      (field as { default?: unknown }).default = [];
      field.type = {
        type: 'array',
        items: {
          type: 'record',
          name: 'AttributeEntry',
          fields: [
            { name: 'key', type: 'string' },
            { name: 'value', type: 'string' },
          ],
        },
      };
    }
  }
  return copy as unknown as avsc.Schema;
}

const accessWriter = avsc.Type.forSchema(writerSchema(DATA_ACCESS_EVENT_SCHEMA));
const accessReader = avsc.Type.forSchema(DATA_ACCESS_EVENT_SCHEMA as avsc.Schema);
const consentType = avsc.Type.forSchema(CONSENT_CHANGE_SCHEMA as avsc.Schema);

const NO_ENTRIES: never[] = [];
let scratch = Buffer.alloc(64 * 1024);

/** `header` then the Avro body `type` writes for `value`, in one new buffer. */
function framed(type: avsc.Type, header: Buffer, value: unknown): Buffer {
  for (;;) {
    header.copy(scratch, 0);
    const end = type.encode(value, scratch, header.length);
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    scratch = Buffer.alloc(scratch.length * 2); // avsc returns a negative offset when out of room
  }
}

function writable(record: AccessRecord): unknown {
  const attributes = sortedEntries(record.attributes);
  return { ...record, attributes: attributes.length === 0 ? NO_ENTRIES : attributes.map(([key, value]) => ({ key, value })) };
}

/** The Avro binary body of a DataAccessEvent. */
export function accessBody(record: AccessRecord): Buffer {
  return accessWriter.toBuffer(writable(record));
}

/** `header` and the body of a DataAccessEvent: the message value. */
export function accessMessage(header: Buffer, record: AccessRecord): Buffer {
  return framed(accessWriter, header, writable(record));
}

/** `header` and the body of a ConsentChange: the message value. */
export function consentMessage(header: Buffer, record: ConsentRecord): Buffer {
  return framed(consentType, header, record);
}

/** The Avro binary body of a ConsentChange. */
export function consentBody(record: ConsentRecord): Buffer {
  return consentType.toBuffer(record);
}

export type DecodedRecord =
  | { record: 'DataAccessEvent'; value: AccessRecord }
  | { record: 'ConsentChange'; value: ConsentRecord };

/** Decodes a single-object message of a record this SDK writes (tests, tools). */
export function decode(payload: Buffer): DecodedRecord {
  if (payload.length === 0) throw new UndecodableError('empty_payload', 'the message has no bytes');
  if (payload[0] === 0) {
    if (payload.length < 5) throw new UndecodableError('truncated', 'Confluent header is shorter than 5 bytes');
    throw new UndecodableError('no_registry', 'message framed for a schema-registry id');
  }
  if (payload[0] !== 0xc3 || payload[1] !== 0x01) throw new UndecodableError('unknown_framing', 'expected c301 or 00');
  if (payload.length < 10) throw new UndecodableError('truncated', 'single-object header is shorter than 10 bytes');
  const fp = payload.readBigInt64LE(2);
  let type: avsc.Type;
  let name: 'DataAccessEvent' | 'ConsentChange';
  if (fp === DATA_ACCESS_EVENT_FINGERPRINT) {
    type = accessReader;
    name = 'DataAccessEvent';
  } else if (fp === CONSENT_CHANGE_FINGERPRINT) {
    type = consentType;
    name = 'ConsentChange';
  } else {
    throw new UndecodableError('unknown_fingerprint', 'no released schema has this fingerprint');
  }
  let decoded: { value: unknown; offset: number };
  try {
    decoded = type.decode(payload, 10);
  } catch (e) {
    throw new UndecodableError('corrupt_body', `${name} body: ${String(e)}`);
  }
  if (decoded.offset < 0) throw new UndecodableError('truncated', `${name} body ends early`);
  if (decoded.offset < payload.length) throw new UndecodableError('trailing_bytes', `bytes after the ${name} body`);
  if (!type.isValid(decoded.value)) throw new UndecodableError('corrupt_body', `${name} body holds values outside the schema`);
  const value = { ...(decoded.value as object) };
  return { record: name, value } as DecodedRecord;
}

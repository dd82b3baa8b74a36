/** The TypeScript SDK against every case of the conformance suite. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  accessBody,
  canonicalForm,
  confluentHeader,
  consentBody,
  CONSENT_CHANGE_FINGERPRINT,
  DATA_ACCESS_EVENT_FINGERPRINT,
  decode,
  fingerprint,
  singleObjectHeader,
} from '../src/codec.js';
import { CONSENT_CHANGE_SCHEMA, DATA_ACCESS_EVENT_SCHEMA } from '../src/contracts.js';
import { InvalidEventError, UndecodableError } from '../src/errors.js';
import { pseudonymize, Uuid } from '../src/pseudonym.js';
import { frame, scan } from '../src/spool-format.js';
import { checkAccess, checkConsent } from '../src/validation.js';
import { accessRecord, consentRecord, hex, PACKAGE_ROOT, section, type Json } from './suite.js';

const REPO_ROOT = join(PACKAGE_ROOT, '..', '..');

/** The `fingerprint_int64` of the schema in `avsc` as written in schemas.json (JSON.parse would round it). */
function rawInt64(avsc: string): string {
  const text = readFileSync(join(PACKAGE_ROOT, '..', 'conformance', 'suite', 'schemas.json'), 'utf8');
  const at = text.indexOf(`"avsc": "${avsc}"`);
  const match = /"fingerprint_int64":\s*(-?\d+)/.exec(text.slice(at));
  return match?.[1] ?? '';
}

describe('schemas', () => {
  // the SDK writes the newest version of each record only
  for (const c of (section('schemas').cases as Json[]).filter((c) => c.latest)) {
    test(`${c.record as string}: avsc's canonical form and CRC-64-AVRO agree with the pinned ones`, () => {
      const onDisk = JSON.parse(readFileSync(join(REPO_ROOT, c.avsc as string), 'utf8')) as object;
      const embedded = c.record === 'DataAccessEvent' ? DATA_ACCESS_EVENT_SCHEMA : CONSENT_CHANGE_SCHEMA;
      const pinned = c.record === 'DataAccessEvent' ? DATA_ACCESS_EVENT_FINGERPRINT : CONSENT_CHANGE_FINGERPRINT;
      assert.deepEqual(embedded, onDisk);
      assert.equal(canonicalForm(onDisk), c.canonical_form);
      // fingerprint_int64 is beyond a JSON number's precision: compare through the header bytes.
      assert.equal(fingerprint(onDisk), hex(c.fingerprint_hex as string).readBigInt64LE(0));
      assert.equal(pinned, fingerprint(onDisk));
      assert.equal(String(pinned), rawInt64(c.avsc as string));
      assert.equal(singleObjectHeader(pinned).subarray(2).toString('hex'), c.fingerprint_hex);
    });
  }
});

describe('encode', () => {
  const data = section('encode');
  for (const c of data.cases as Json[]) {
    test(`${c.name as string}: encodes to the pinned single-object and Confluent bytes`, () => {
      let body: Buffer;
      let fp: bigint;
      if (c.record === 'ConsentChange') {
        const record = consentRecord(c.input);
        checkConsent(record);
        body = consentBody(record);
        fp = CONSENT_CHANGE_FINGERPRINT;
      } else {
        const record = accessRecord(c.input);
        if (c.valid === false) assert.throws(() => checkAccess(record), InvalidEventError);
        else checkAccess(record);
        body = accessBody(record);
        fp = DATA_ACCESS_EVENT_FINGERPRINT;
      }
      assert.equal(Buffer.concat([singleObjectHeader(fp), body]).toString('hex'), c.single_object_hex);
      assert.equal(Buffer.concat([confluentHeader(data.confluent_schema_id as number), body]).toString('hex'), c.confluent_hex);
    });
  }
});

describe('decode', () => {
  for (const c of section('decode').cases as Json[]) {
    test(`${c.name as string}: decodes to the pinned record or error kind`, () => {
      const payload = hex(c.hex as string);
      if (c.error !== undefined) {
        assert.throws(() => decode(payload), (e: unknown) => e instanceof UndecodableError && e.reason === c.error);
        return;
      }
      const decoded = decode(payload);
      assert.equal(decoded.record, c.record);
      const expected = { ...c.json, occurred_at: Date.parse(c.json.occurred_at as string) };
      assert.deepStrictEqual(JSON.parse(JSON.stringify(decoded.value)), expected);
    });
  }
});

describe('pseudonym', () => {
  for (const c of section('pseudonym').cases as Json[]) {
    test(`${c.name as string} (key ${JSON.stringify(c.key)}): the pinned pseudonym or error code`, () => {
      const input = c.input;
      const raw = input.int !== undefined ? toInteger(input.int as string)
        : input.uuid !== undefined ? new Uuid(input.uuid as string) : (input.string as string);
      if (c.error !== undefined) {
        assert.throws(() => pseudonymize(raw, c.key as string),
          (e: unknown) => e instanceof InvalidEventError && e.field === 'subject' && e.code === c.error);
      } else {
        assert.equal(pseudonymize(raw, c.key as string), c.pseudonym);
      }
    });
  }
});

/** A safe integer as a number, a larger one as a bigint (as the README asks callers to). */
function toInteger(text: string): number | bigint {
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

describe('validate', () => {
  for (const c of section('validate').cases as Json[]) {
    test(`${c.name as string}: passes, or fails naming the pinned field and code`, () => {
      const record = accessRecord(c.input);
      if (c.error === null) {
        checkAccess(record);
        return;
      }
      assert.throws(() => checkAccess(record), (e: unknown) => {
        assert.ok(e instanceof InvalidEventError, String(e));
        assert.equal(`${e.field}/${e.code}`, `${c.error.field as string}/${c.error.code as string}`);
        return true;
      });
    });
  }
});

describe('spool', () => {
  const data = section('spool');
  for (const c of data.write as Json[]) {
    test(`write ${c.name as string}: records frame to the pinned segment bytes`, () => {
      const bytes = Buffer.concat((c.records as Json[]).map((r) => frame(r.topic as string, hex(r.key_hex as string), hex(r.value_hex as string))));
      assert.equal(bytes.toString('hex'), c.segment_hex);
    });
  }
  for (const c of data.read as Json[]) {
    test(`read ${c.name as string}: intact records, and where and why the scan stopped`, () => {
      const result = scan(hex(c.segment_hex as string), c.start as number);
      assert.deepStrictEqual(
        result.records.map((r) => ({ topic: r.topic, key_hex: r.key.toString('hex'), value_hex: r.value.toString('hex'), end: r.end })),
        c.records,
      );
      assert.deepStrictEqual(result.end, c.stop);
    });
  }
});

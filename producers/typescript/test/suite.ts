/** Reads the conformance suite (`producers/conformance/suite/`) for the tests. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccessRecord, ConsentRecord } from '../src/records.js';

/** The package folder (tests run from `build/test/`). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SUITE = join(PACKAGE_ROOT, '..', 'conformance', 'suite');

export type Json = any;

export function section(name: string): Json {
  const data = JSON.parse(readFileSync(join(SUITE, `${name}.json`), 'utf8')) as Json;
  if (data.spec_version !== 1) throw new Error(`${name}.json has spec_version ${String(data.spec_version)}; this runner knows 1`);
  return data;
}

export const hex = (text: string): Buffer => Buffer.from(text, 'hex');

/** A JSON-form time: epoch milliseconds, or ISO-8601 text. */
export function millis(value: number | string): number {
  return typeof value === 'number' ? value : Date.parse(value);
}

/** The JSON form of an access event as the record the SDK encodes (defaults filled in). */
export function accessRecord(input: Json): AccessRecord {
  return {
    event_id: input.event_id,
    occurred_at: millis(input.occurred_at),
    service: input.service,
    actor: { kind: input.actor.kind, id: input.actor.id },
    subject_id: input.subject_id ?? null,
    elements: input.elements,
    purpose: input.purpose ?? null,
    operation: input.operation ?? 'READ',
    processing: input.processing ?? 'RAW',
    destination: { kind: input.destination?.kind ?? 'INTERNAL', name: input.destination?.name ?? null },
    origin_service: input.origin_service ?? null,
    consent: {
      targeting_opt_out: input.consent?.targeting_opt_out ?? false,
      publication_consent: input.consent?.publication_consent ?? false,
      payroll_other_use_consent: input.consent?.payroll_other_use_consent ?? false,
    },
    record_count: input.record_count ?? 1,
    trace_id: input.trace_id ?? null,
    attributes: input.attributes ?? {},
  };
}

export function consentRecord(input: Json): ConsentRecord {
  return {
    subject_id: input.subject_id,
    occurred_at: millis(input.occurred_at),
    targeting_opt_out: input.targeting_opt_out ?? false,
    publication_consent: input.publication_consent ?? false,
    payroll_other_use_consent: input.payroll_other_use_consent ?? false,
    third_party_link_consent: input.third_party_link_consent ?? false,
  };
}

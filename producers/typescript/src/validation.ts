/**
 * The contract's checks beyond Avro types, in schema field order and with the codes of every dua
 * SDK (`producers/conformance/README.md`): the first problem found is thrown.
 */
import { ACTOR_KINDS, DESTINATION_KINDS, OPERATIONS, PROCESSING } from './contracts.js';
import { InvalidEventError } from './errors.js';
import type { AccessRecord, ConsentRecord } from './records.js';
import { codePointLength, isBlank, sortedEntries } from './text.js';

export const MAX_ELEMENTS = 256;
export const MAX_CODE_LENGTH = 128;
export const MAX_TEXT_LENGTH = 512;
export const MAX_ATTRIBUTES = 32;
export const MAX_RECORD_COUNT = 2 ** 31 - 1;

function text(value: unknown, field: string, limit: number, emptyAllowed = false): void {
  if (typeof value !== 'string') {
    throw new InvalidEventError(field, 'wrong_type', `must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (!emptyAllowed && isBlank(value)) throw new InvalidEventError(field, 'empty', 'must not be empty');
  const length = codePointLength(value);
  if (length > limit) {
    throw new InvalidEventError(field, 'too_long', `is ${length} characters long; at most ${limit} allowed`);
  }
}

function optionalText(value: unknown, field: string, limit: number): void {
  if (value !== null && value !== undefined) text(value, field, limit);
}

function symbol(value: unknown, field: string, symbols: readonly string[]): void {
  if (typeof value !== 'string' || !symbols.includes(value)) {
    throw new InvalidEventError(field, 'not_symbol', `'${String(value)}' is not one of ${symbols.join(', ')}`);
  }
}

function flag(value: unknown, field: string): void {
  if (typeof value !== 'boolean') throw new InvalidEventError(field, 'wrong_type', 'must be true or false');
}

/** What Python's `uuid.UUID(text)` takes: 32 hex digits, hyphens, braces, a urn prefix. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  if (CANONICAL_UUID.test(value)) return true;
  const hex = value.replaceAll('urn:', '').replaceAll('uuid:', '').replace(/^\{+/, '').replace(/\}+$/, '').replaceAll('-', '');
  return /^[0-9a-fA-F]{32}$/.test(hex);
}

/** Throws an `InvalidEventError` for the first problem of `e`. */
export function checkAccess(e: AccessRecord): void {
  text(e.event_id, 'event_id', MAX_TEXT_LENGTH);
  if (!isUuid(e.event_id)) throw new InvalidEventError('event_id', 'not_uuid', 'is not a UUID');
  if (!Number.isSafeInteger(e.occurred_at)) throw new InvalidEventError('occurred_at', 'not_timestamp', 'is not a time');
  text(e.service, 'service', MAX_CODE_LENGTH);
  symbol(e.actor.kind, 'actor.kind', ACTOR_KINDS);
  text(e.actor.id, 'actor.id', MAX_TEXT_LENGTH);
  optionalText(e.subject_id, 'subject_id', MAX_TEXT_LENGTH);
  const elements: unknown = e.elements;
  if (!Array.isArray(elements)) throw new InvalidEventError('elements', 'wrong_type', 'must be a list of element codes');
  if (elements.length === 0) throw new InvalidEventError('elements', 'empty', 'must be a non-empty list of element codes');
  if (elements.length > MAX_ELEMENTS) {
    throw new InvalidEventError('elements', 'too_many', `has ${elements.length} entries; at most ${MAX_ELEMENTS}`);
  }
  elements.forEach((element: unknown, i) => text(element, `elements[${i}]`, MAX_CODE_LENGTH));
  optionalText(e.purpose, 'purpose', MAX_CODE_LENGTH);
  symbol(e.operation, 'operation', OPERATIONS);
  symbol(e.processing, 'processing', PROCESSING);
  symbol(e.destination.kind, 'destination.kind', DESTINATION_KINDS);
  optionalText(e.destination.name, 'destination.name', MAX_TEXT_LENGTH);
  optionalText(e.origin_service, 'origin_service', MAX_CODE_LENGTH);
  flag(e.consent.targeting_opt_out, 'consent.targeting_opt_out');
  flag(e.consent.publication_consent, 'consent.publication_consent');
  flag(e.consent.payroll_other_use_consent, 'consent.payroll_other_use_consent');
  const count: unknown = e.record_count;
  if (typeof count !== 'number' || !Number.isInteger(count)) {
    throw new InvalidEventError('record_count', 'wrong_type', 'must be an integer');
  }
  if (count < 0 || count > MAX_RECORD_COUNT) {
    throw new InvalidEventError('record_count', 'out_of_range', `must be an integer from 0 to ${MAX_RECORD_COUNT}`);
  }
  optionalText(e.trace_id, 'trace_id', MAX_TEXT_LENGTH);
  const attributes: unknown = e.attributes;
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw new InvalidEventError('attributes', 'wrong_type', 'must be an object of strings');
  }
  const entries = sortedEntries(attributes as Record<string, string>);
  if (entries.length === 0) return;
  if (entries.length > MAX_ATTRIBUTES) {
    throw new InvalidEventError('attributes', 'too_many', `has ${entries.length} entries; at most ${MAX_ATTRIBUTES}`);
  }
  for (const [key, value] of entries) {
    text(key, 'attributes (key)', MAX_CODE_LENGTH);
    text(value, `attributes.${key}`, MAX_TEXT_LENGTH, true);
  }
}

/** Throws an `InvalidEventError` for the first problem of `c`. */
export function checkConsent(c: ConsentRecord): void {
  text(c.subject_id, 'subject_id', MAX_TEXT_LENGTH);
}

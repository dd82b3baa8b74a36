/**
 * Subject pseudonyms: HMAC-SHA256 of the raw id under the subject key, as 64 hex characters.
 *
 * The one normalization of every dua SDK: a string is hashed exactly as given (UTF-8, no
 * trimming) and refused when empty or only White_Space (`empty`) or when it holds a lone
 * surrogate (`invalid_unicode`); an integer (a safe `number` or a `bigint` within 64 bits) as
 * its decimal text; a {@link Uuid} as its lower-case text.
 */
import { createHmac } from 'node:crypto';
import { InvalidEventError } from './errors.js';
import { isBlank } from './text.js';

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** A UUID value (hashed as its lower-case text); a plain string is hashed as it is written. */
export class Uuid {
  readonly text: string;

  constructor(text: string) {
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text)) {
      throw new InvalidEventError('subject', 'wrong_type', 'is not a UUID');
    }
    this.text = text.toLowerCase();
  }

  toString(): string {
    return this.text;
  }
}

/** What a subject may be: a string, an integer, a 64-bit `bigint` or a {@link Uuid}. */
export type SubjectId = string | number | bigint | Uuid;

/** The text a raw id is hashed as. */
export function subjectText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw new InvalidEventError('subject', 'wrong_type', 'must be an integer, not a fraction');
    if (!Number.isSafeInteger(raw)) {
      throw new InvalidEventError('subject', 'out_of_range', 'is above 2^53: pass it as a bigint');
    }
    return String(raw);
  }
  if (typeof raw === 'bigint') {
    if (raw < LONG_MIN || raw > LONG_MAX) {
      throw new InvalidEventError('subject', 'out_of_range', 'is an integer outside the signed 64-bit range');
    }
    return raw.toString();
  }
  if (raw instanceof Uuid) return raw.text;
  const type = raw === null ? 'null' : typeof raw;
  throw new InvalidEventError('subject', 'wrong_type', `must be a string or an integer, got ${type}`);
}

/** The pseudonym of `raw` under `key` (the company-wide subject key). */
export function pseudonymize(raw: unknown, key: string | Buffer): string {
  const text = subjectText(raw);
  if (isBlank(text)) throw new InvalidEventError('subject', 'empty', 'must not be empty');
  if (!text.isWellFormed()) {
    throw new InvalidEventError('subject', 'invalid_unicode', 'holds a lone surrogate (not Unicode text)');
  }
  const keyBytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return createHmac('sha256', keyBytes).update(text, 'utf8').digest('hex');
}

/** Entries a {@link Pseudonymizer} remembers before it starts over. */
export const CACHE_LIMIT = 65_536;

/** `pseudonymize` with the key fixed and recent results remembered (an HMAC costs a few µs). */
export class Pseudonymizer {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();

  constructor(key: string | Buffer) {
    this.key = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  }

  pseudonym(raw: unknown): string {
    const text = subjectText(raw);
    const found = this.cache.get(text);
    if (found !== undefined) return found;
    const pseudonym = pseudonymize(text, this.key);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear(); // cheaper than LRU bookkeeping per call
    this.cache.set(text, pseudonym);
    return pseudonym;
  }
}

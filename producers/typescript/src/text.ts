/** Text rules shared by validation and pseudonyms: Unicode White_Space and code-point order. */

/** The Unicode White_Space property (not U+FEFF, not U+001C..U+001F). */
const WHITE_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** True when `value` is empty or only White_Space. */
export function isBlank(value: string): boolean {
  for (const ch of value) {
    if (!WHITE_SPACE.has(ch.codePointAt(0) as number)) return false;
  }
  return true;
}

/** Length in code points (a lone surrogate counts as one). */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** Compares by code point, which is the order of the UTF-8 bytes (not UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const ca = x.value.codePointAt(0) as number;
    const cb = y.value.codePointAt(0) as number;
    if (ca !== cb) return ca - cb;
  }
}

/** The entries of `map` sorted by the UTF-8 bytes of their keys (the suite's map order). */
export function sortedEntries(map: Readonly<Record<string, string>>): [string, string][] {
  const entries = Object.entries(map);
  return entries.length < 2 ? entries : entries.sort(([a], [b]) => compareCodePoints(a, b));
}

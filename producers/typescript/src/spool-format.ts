/**
 * The spool segment format shared by every dua SDK:
 *
 *     record := length (u32 BE, of body) | crc32(body) (u32 BE) | body
 *     body   := topic length (u16 BE) | topic (UTF-8) | key length (u16 BE) | key | value
 */
import { crc32 } from 'node:zlib';

export const HEADER = 8;
export const MAX_BODY = 16 * 1024 * 1024;

export interface SpoolRecord {
  topic: string;
  key: Buffer;
  value: Buffer;
  /** The offset just past this record in its segment (the ack cursor once it is delivered). */
  end: number;
}

/** Where a scan stopped; `reason` is null when clean. */
export interface ScanEnd {
  offset: number;
  clean: boolean;
  reason: 'torn_header' | 'torn_record' | 'checksum_mismatch' | 'bad_body' | null;
}

export function frame(topic: string, key: Uint8Array, value: Uint8Array): Buffer {
  const name = Buffer.from(topic, 'utf8');
  const bodyLength = 2 + name.length + 2 + key.length + value.length;
  const out = Buffer.allocUnsafe(HEADER + bodyLength);
  out.writeUInt32BE(bodyLength, 0);
  let at = HEADER;
  out.writeUInt16BE(name.length, at);
  at += 2 + name.copy(out, at + 2);
  out.writeUInt16BE(key.length, at);
  at += 2;
  out.set(key, at);
  out.set(value, at + key.length);
  out.writeUInt32BE(crc32(out.subarray(HEADER)), 4);
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parse(data: Buffer, start: number, end: number): SpoolRecord | null {
  if (start + 2 > end) return null;
  const topicLength = data.readUInt16BE(start);
  const topicStart = start + 2;
  if (topicStart + topicLength + 2 > end) return null;
  let topic: string;
  try {
    topic = UTF8.decode(data.subarray(topicStart, topicStart + topicLength));
  } catch {
    return null;
  }
  const keyLength = data.readUInt16BE(topicStart + topicLength);
  const keyStart = topicStart + topicLength + 2;
  if (keyStart + keyLength > end) return null;
  return {
    topic,
    key: Buffer.from(data.subarray(keyStart, keyStart + keyLength)),
    value: Buffer.from(data.subarray(keyStart + keyLength, end)),
    end,
  };
}

/** The intact records of `data` from `start`, and where and why the scan stopped. */
export function scan(data: Buffer, start: number): { records: SpoolRecord[]; end: ScanEnd } {
  const records: SpoolRecord[] = [];
  let offset = start;
  while (offset + HEADER <= data.length) {
    const length = data.readUInt32BE(offset);
    const crc = data.readUInt32BE(offset + 4);
    const end = offset + HEADER + length;
    if (length > MAX_BODY || end > data.length) return { records, end: { offset, clean: false, reason: 'torn_record' } };
    if (crc32(data.subarray(offset + HEADER, end)) !== crc) {
      return { records, end: { offset, clean: false, reason: 'checksum_mismatch' } };
    }
    const parsed = parse(data, offset + HEADER, end);
    if (parsed === null) return { records, end: { offset, clean: false, reason: 'bad_body' } };
    records.push(parsed);
    offset = end;
  }
  if (offset === data.length) return { records, end: { offset, clean: true, reason: null } };
  return { records, end: { offset, clean: false, reason: 'torn_header' } };
}

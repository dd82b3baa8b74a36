/**
 * A durable, bounded queue of messages Kafka did not take, in the directory layout every dua SDK
 * shares: `<n>.seg` segments (16-digit numbers) of spool-format records, `<n>.ack` cursors (bytes
 * of the segment delivered, ASCII decimal, replaced atomically) and `spool.lock`, held with an
 * fcntl record lock (`F_SETLK`, whole file: the lock Python's `lockf` and Java's `tryLock` take)
 * while a process owns the directory.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { lock } from 'os-lock';
import { DuaError } from './errors.js';
import { frame, scan, type SpoolRecord } from './spool-format.js';

const SEGMENT = /^(\d+)\.seg$/;
const name = (n: number, ext: string): string => `${String(n).padStart(16, '0')}.${ext}`;

/** A batch of the oldest undelivered records, all from one segment. */
export interface SpoolBatch {
  segment: number;
  records: SpoolRecord[];
  remainingInSegment: number;
  segmentSize: number;
}

/** Directories this process holds: fcntl locks do not exclude a second open in the same process. */
const HELD = new Set<string>();

export class Spool {
  readonly directory: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private lockFd: number | null;
  private readonly sealed: number[] = [];
  private active: number | null = null;
  private activeNumber = 0;
  private activeSize = 0;
  private activeRecords = 0;
  private bytesOnDisk = 0;
  private pendingRecords = 0;

  private constructor(directory: string, lockFd: number, maxBytes: number, segmentBytes: number) {
    this.directory = directory;
    this.lockFd = lockFd;
    this.maxBytes = maxBytes;
    this.segmentBytes = segmentBytes;
  }

  /** Takes the directory (fails when another process holds it) and finds what earlier runs left. */
  static async open(directory: string, maxBytes = 256 * 1024 * 1024, segmentBytes = 16 * 1024 * 1024): Promise<Spool> {
    fs.mkdirSync(directory, { recursive: true });
    const real = fs.realpathSync(directory);
    const inUse = (): DuaError =>
      new DuaError(`spool directory ${directory} is in use by another client; give each its own spool directory`);
    if (HELD.has(real)) throw inUse();
    HELD.add(real);
    const fd = fs.openSync(join(real, 'spool.lock'), 'a+');
    try {
      await lock(fd, { exclusive: true, immediate: true });
    } catch {
      fs.closeSync(fd);
      HELD.delete(real);
      throw inUse();
    }
    const spool = new Spool(real, fd, maxBytes, segmentBytes);
    try {
      spool.recover();
    } catch (error) {
      spool.close();
      throw error;
    }
    return spool;
  }

  /** Spooled events not yet delivered. */
  get pending(): number {
    return this.pendingRecords;
  }

  /** Bytes the segment files take. */
  get sizeBytes(): number {
    return this.bytesOnDisk;
  }

  /** Appends one message; false when the spool is full, closed, or the disk refused it. */
  append(topic: string, key: Uint8Array, value: Uint8Array): boolean {
    const data = frame(topic, key, value);
    if (this.lockFd === null || this.bytesOnDisk + data.length > this.maxBytes) return false;
    try {
      if (this.active === null || (this.activeSize > 0 && this.activeSize + data.length > this.segmentBytes)) {
        this.startSegment();
      }
      fs.writeSync(this.active as number, data);
    } catch {
      return false;
    }
    this.activeSize += data.length;
    this.activeRecords++;
    this.bytesOnDisk += data.length;
    this.pendingRecords++;
    return true;
  }

  /** The oldest undelivered records (at most `limit`), or null when the spool is empty. */
  next(limit: number): SpoolBatch | null {
    for (;;) {
      if (this.sealed.length === 0 && this.active !== null && this.activeRecords > 0) this.sealActive();
      const head = this.sealed[0];
      if (head === undefined) return null;
      const data = fs.readFileSync(join(this.directory, name(head, 'seg')));
      const records = scan(data, this.readCursor(head)).records;
      if (records.length === 0) {
        this.delete(head, data.length);
        continue;
      }
      return { segment: head, records: records.slice(0, limit), remainingInSegment: records.length, segmentSize: data.length };
    }
  }

  /** The first `delivered` records of `batch` reached Kafka. */
  settle(batch: SpoolBatch, delivered: number): void {
    if (delivered === 0) return;
    this.pendingRecords -= delivered;
    if (delivered === batch.remainingInSegment) {
      this.delete(batch.segment, batch.segmentSize);
      return;
    }
    const ack = join(this.directory, name(batch.segment, 'ack'));
    const record = batch.records[delivered - 1] as SpoolRecord;
    fs.writeFileSync(`${ack}.tmp`, String(record.end), 'ascii');
    fs.renameSync(`${ack}.tmp`, ack);
  }

  /** Forces appended records to disk. */
  sync(): void {
    if (this.active !== null) fs.fsyncSync(this.active);
  }

  /** Syncs, closes the segment and releases the directory. */
  close(): void {
    if (this.active !== null) {
      fs.fsyncSync(this.active);
      fs.closeSync(this.active);
      if (this.activeRecords === 0) fs.rmSync(join(this.directory, name(this.activeNumber, 'seg')), { force: true });
      this.active = null;
    }
    if (this.lockFd !== null) {
      fs.closeSync(this.lockFd); // closing the descriptor releases the fcntl lock
      this.lockFd = null;
      HELD.delete(this.directory);
    }
  }

  private recover(): void {
    const numbers = fs
      .readdirSync(this.directory)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of numbers) {
      const data = fs.readFileSync(join(this.directory, name(n, 'seg')));
      const cursor = this.readCursor(n);
      if (cursor !== 0 && !scan(data, 0).records.some((r) => r.end === cursor)) {
        fs.rmSync(join(this.directory, name(n, 'ack')), { force: true });
      }
      const live = scan(data, this.readCursor(n)).records.length;
      if (live === 0) {
        this.delete(n, 0);
        continue;
      }
      this.sealed.push(n);
      this.bytesOnDisk += data.length;
      this.pendingRecords += live;
    }
  }

  private readCursor(n: number): number {
    try {
      const text = fs.readFileSync(join(this.directory, name(n, 'ack')), 'ascii').trim();
      const value = Number(text);
      return /^\d+$/.test(text) ? value : 0;
    } catch {
      return 0;
    }
  }

  private startSegment(): void {
    this.sealActive();
    const last = this.sealed[this.sealed.length - 1] ?? 0;
    const n = Math.max(this.activeNumber, last) + 1;
    this.active = fs.openSync(join(this.directory, name(n, 'seg')), 'a');
    this.activeNumber = n;
    this.activeSize = 0;
    this.activeRecords = 0;
  }

  private sealActive(): void {
    if (this.active === null) return;
    fs.fsyncSync(this.active);
    fs.closeSync(this.active);
    this.active = null;
    if (this.activeRecords > 0) this.sealed.push(this.activeNumber);
    else fs.rmSync(join(this.directory, name(this.activeNumber, 'seg')), { force: true });
  }

  private delete(n: number, size: number): void {
    const at = this.sealed.indexOf(n);
    if (at >= 0) this.sealed.splice(at, 1);
    this.bytesOnDisk -= size;
    fs.rmSync(join(this.directory, name(n, 'seg')), { force: true });
    fs.rmSync(join(this.directory, name(n, 'ack')), { force: true });
  }
}

/**
 * Cost of `emit` per event, total until `flush` resolved, beside a raw produce of the very same
 * bytes with `@platformatic/kafka` (same producer settings: idempotent, acks=all), on one broker.
 *
 *     node build/bench/emit.js <bootstrap> <sdk topic> <raw topic> [events] [rounds]
 *
 * Prints one JSON line; each figure is the median of the timed rounds after a warm-up round.
 * The raw side sends in batches of the SDK's batch size, awaiting each: the best a caller of
 * the client does by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer, ProduceAcks } from '@platformatic/kafka';
import { createAuditClient, type Access } from '../src/client.js';
import { MemoryTransport } from '../src/testing.js';

const [bootstrap, sdkTopic, rawTopic, eventsArg, roundsArg] = process.argv.slice(2);
const EVENTS = Number(eventsArg ?? 50_000);
const ROUNDS = Number(roundsArg ?? 5);
const BATCH = 10_000;
const KEY = 'bench-subject-key-0123456789';

const SHAPES: Omit<Access, 'subject'>[] = [
  { elements: ['user.name', 'user.contact.email'], purpose: 'service.inquiry_response' },
  { elements: ['user.account.id', 'user.behavior.usage_history'], purpose: 'service.points_program' },
  { elements: ['user.behavior.browsing_history', 'user.device.ad_id'], purpose: 'marketing.targeted_advertising', destination: 'AD_PLATFORM', destinationName: 'ads' },
  { elements: ['user.behavior.usage_history', 'user.behavior.browsing_history'], purpose: 'research.profiling', processing: 'PSEUDONYMIZED' },
  { elements: ['user.account.id', 'user.content.message'], purpose: 'service.user_messaging' },
  { elements: ['user.content.review'], purpose: 'improvement.support_quality', processing: 'STATISTICAL' },
];
const access = (i: number): Access => ({ ...(SHAPES[i % SHAPES.length] as Access), subject: `member-${String((i * 7919) % 5000).padStart(5, '0')}` });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function sdkRound(): Promise<number> {
  const spoolDirectory = mkdtempSync(join(tmpdir(), 'dua-bench-spool-'));
  const audit = await createAuditClient({
    service: 'hotpepper-gourmet', subjectKey: KEY, bootstrap: bootstrap as string, topicRaw: sdkTopic as string,
    spoolDirectory, metricsRegistry: null,
  });
  audit.emit(access(0)); // connect before timing, as a service does at start-up
  await audit.flush(60_000);
  const start = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) audit.emit(access(i));
  const left = await audit.flush(120_000);
  const elapsed = Number(process.hrtime.bigint() - start) / 1000;
  const stats = audit.stats();
  await audit.close();
  rmSync(spoolDirectory, { recursive: true, force: true });
  if (left !== 0 || stats.spooled !== 0) throw new Error(`sdk round did not deliver everything: ${JSON.stringify(stats)}`);
  return elapsed / EVENTS;
}

async function messages(): Promise<{ key: Buffer; value: Buffer }[]> {
  const transport = new MemoryTransport();
  const spoolDirectory = mkdtempSync(join(tmpdir(), 'dua-bench-spool-'));
  const audit = await createAuditClient({ service: 'hotpepper-gourmet', subjectKey: KEY, spoolDirectory, transport, metricsRegistry: null });
  for (let i = 0; i < EVENTS; i++) audit.emit(access(i));
  await audit.close();
  rmSync(spoolDirectory, { recursive: true, force: true });
  return transport.messages.map((m) => ({ key: m.key, value: m.value }));
}

async function rawRound(payloads: { key: Buffer; value: Buffer }[]): Promise<number> {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'bench-raw', bootstrapBrokers: (bootstrap as string).split(','), idempotent: true, acks: ProduceAcks.ALL,
  });
  await producer.send({ messages: [{ topic: rawTopic as string, key: Buffer.from('warm'), value: Buffer.from('up') }] });
  const start = process.hrtime.bigint();
  for (let i = 0; i < payloads.length; i += BATCH) {
    await producer.send({ messages: payloads.slice(i, i + BATCH).map((p) => ({ topic: rawTopic as string, key: p.key, value: p.value })) });
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1000;
  await producer.close();
  return elapsed / payloads.length;
}

const payloads = await messages();
const sdk: number[] = [];
const raw: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const s = await sdkRound();
  const r = await rawRound(payloads);
  if (round > 0) {
    sdk.push(s);
    raw.push(r);
  }
}
const round2 = (x: number): number => Math.round(x * 100) / 100;
process.stdout.write(`${JSON.stringify({
  events: EVENTS,
  rounds: ROUNDS,
  sdk_us_per_event: round2(median(sdk)),
  raw_us_per_event: round2(median(raw)),
  sdk_per_s: Math.round(1e6 / median(sdk)),
  raw_per_s: Math.round(1e6 / median(raw)),
})}\n`);

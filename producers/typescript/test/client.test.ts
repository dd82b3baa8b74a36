/** The client over an in-memory transport: emit, validation, spooling, replay, the spool lock. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createAuditClient, type AuditClientOptions } from '../src/client.js';
import { ClientClosedError, DuaError, InvalidEventError } from '../src/errors.js';
import { pseudonymize } from '../src/pseudonym.js';
import { MemoryTransport } from '../src/testing.js';
import { PACKAGE_ROOT } from './suite.js';

const KEY = 'test-subject-key-0123456789';

function options(transport: MemoryTransport, overrides: Partial<AuditClientOptions> = {}): AuditClientOptions {
  return {
    service: 'jalan',
    subjectKey: KEY,
    spoolDirectory: mkdtempSync(join(tmpdir(), 'dua-spool-')),
    transport,
    metricsRegistry: null,
    delivery: { log: () => undefined },
    ...overrides,
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('emit returns the event id at once and the event reaches the transport, pseudonymized and keyed by it', async () => {
  const transport = new MemoryTransport();
  const audit = await createAuditClient(options(transport, { clock: () => 1_700_000_000_000 }));
  const id = audit.emit({
    elements: ['user.behavior.usage_history'], purpose: 'service.points_program', subject: 'member-1',
    attributes: { b: '1', 10: 'x', 2: 'y' },
  });
  assert.equal(transport.messages.length, 0);
  assert.equal(await audit.flush(), 0);
  const [event] = transport.events();
  assert.equal(event?.record, 'DataAccessEvent');
  const value = event?.value as unknown as Record<string, unknown>;
  assert.equal(value['event_id'], id);
  assert.equal(value['occurred_at'], 1_700_000_000_000);
  assert.equal(value['subject_id'], pseudonymize('member-1', KEY));
  assert.deepEqual(Object.keys(value['attributes'] as object).sort(), ['10', '2', 'b']);
  assert.equal(transport.messages[0]?.key.toString(), pseudonymize('member-1', KEY));
  assert.equal(transport.messages[0]?.topic, 'dua.access.raw');
  assert.deepEqual(audit.stats(), { emitted: 1, delivered: 1, failed: 0, spooled: 0, replayed: 0, dropped: 0, spoolPending: 0 });
  await audit.close();
});

test('an invalid event throws InvalidEventError naming the field, and nothing is sent', async () => {
  const transport = new MemoryTransport();
  const audit = await createAuditClient(options(transport));
  assert.throws(() => audit.emit({ elements: [] }), (e: unknown) => e instanceof InvalidEventError && e.field === 'elements' && e.code === 'empty');
  assert.throws(() => audit.emit({ elements: ['user.name'], occurredAt: '2026-11-01T10:00:00' }),
    (e: unknown) => e instanceof InvalidEventError && e.code === 'no_timezone');
  assert.throws(() => audit.emit({ elements: ['user.name'], subject: ' ' }),
    (e: unknown) => e instanceof InvalidEventError && e.field === 'subject' && e.code === 'empty');
  await audit.flush();
  assert.equal(transport.messages.length, 0);
  await audit.close();
  assert.throws(() => audit.emit({ elements: ['user.name'] }), ClientClosedError);
});

test('emitConsent sends a ConsentChange keyed by the pseudonym to the consent topic', async () => {
  const transport = new MemoryTransport();
  const audit = await createAuditClient(options(transport));
  audit.emitConsent({ subject: 42, targetingOptOut: true });
  await audit.flush();
  const [event] = transport.events();
  assert.equal(event?.record, 'ConsentChange');
  assert.equal((event?.value as { subject_id: string }).subject_id, pseudonymize(42, KEY));
  assert.equal((event?.value as { targeting_opt_out: boolean }).targeting_opt_out, true);
  assert.equal(transport.messages[0]?.topic, 'dua.consent');
  await audit.close();
});

test('what the transport refuses is spooled, then replayed in order once it takes messages again', async () => {
  const transport = new MemoryTransport();
  transport.failWith = new Error('broker away');
  const audit = await createAuditClient(options(transport));
  const ids = Array.from({ length: 20 }, (_, i) => audit.emit({ elements: ['user.name'], attributes: { i: String(i) } }));
  assert.equal(await audit.flush(), 0);
  assert.equal(audit.stats().spoolPending, 20);
  transport.failWith = null;
  await until(() => audit.stats().spoolPending === 0, 'the replay');
  const later = audit.emit({ elements: ['user.name'] });
  await until(() => transport.messages.length === 21, 'the event emitted while the replay ends');
  assert.deepEqual(transport.events().map((e) => (e.value as { event_id: string }).event_id), [...ids, later]);
  const stats = audit.stats();
  assert.equal(stats.failed, 20);
  assert.equal(stats.delivered, 21);
  assert.ok(stats.replayed >= 20);
  await audit.close();
});

test('events left in the spool by one client are delivered by the next one on the same directory', async () => {
  const spoolDirectory = mkdtempSync(join(tmpdir(), 'dua-spool-'));
  const down = new MemoryTransport();
  down.failWith = new Error('broker away');
  const first = await createAuditClient(options(down, { spoolDirectory }));
  const ids = [first.emit({ elements: ['user.name'] }), first.emit({ elements: ['user.contact.email'] })];
  await first.close();
  assert.ok(readdirSync(spoolDirectory).some((f) => f.endsWith('.seg')));
  const up = new MemoryTransport();
  const second = await createAuditClient(options(up, { spoolDirectory }));
  await until(() => up.messages.length === 2, 'the replay on start');
  assert.deepEqual(up.events().map((e) => (e.value as { event_id: string }).event_id), ids);
  await second.close();
  assert.ok(!readdirSync(spoolDirectory).some((f) => f.endsWith('.seg')));
});

test('a spool directory is refused while another client or process holds its fcntl lock', async () => {
  const spoolDirectory = mkdtempSync(join(tmpdir(), 'dua-spool-'));
  const audit = await createAuditClient(options(new MemoryTransport(), { spoolDirectory }));
  await assert.rejects(createAuditClient(options(new MemoryTransport(), { spoolDirectory })), DuaError);
  // Another process: Python's lockf (an fcntl lock) must fail on it, as it does against Java.
  const script = 'import fcntl,sys\nf=open(sys.argv[1],"a")\ntry:\n  fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\n  print("taken")\nexcept OSError:\n  print("refused")';
  const python = spawnSync('python3', ['-c', script, join(spoolDirectory, 'spool.lock')], { encoding: 'utf8' });
  if (python.error === undefined) assert.equal(python.stdout.trim(), 'refused');
  await audit.close();
  const again = await createAuditClient(options(new MemoryTransport(), { spoolDirectory }));
  await again.close();
});

test('a spool directory locked by another Node process is refused', async () => {
  const spoolDirectory = mkdtempSync(join(tmpdir(), 'dua-spool-'));
  const holder = join(PACKAGE_ROOT, 'build', 'test', 'fixtures', 'hold-spool.js');
  const child = spawnSync(process.execPath, [holder, spoolDirectory, 'check'], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const { spawn } = await import('node:child_process');
  const proc = spawn(process.execPath, [holder, spoolDirectory, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
  await assert.rejects(createAuditClient(options(new MemoryTransport(), { spoolDirectory })), DuaError);
  proc.stdin.end();
  await new Promise((resolve) => proc.once('exit', resolve));
  const audit = await createAuditClient(options(new MemoryTransport(), { spoolDirectory }));
  await audit.close();
});

test('counters are exported to a prom-client registry under the SDK-wide names', async () => {
  const registry = new Registry();
  const audit = await createAuditClient(options(new MemoryTransport(), { metricsRegistry: registry }));
  audit.emit({ elements: ['user.name'] });
  await audit.flush();
  const text = await registry.metrics();
  assert.match(text, /^dua_sdk_events_emitted_total 1$/m);
  assert.match(text, /^dua_sdk_events_delivered_total 1$/m);
  assert.match(text, /^dua_sdk_events_dropped_total 0$/m);
  await audit.close();
});

test('with a registry URL, both schemas are registered over REST and messages carry Confluent framing', async () => {
  const { createServer } = await import('node:http');
  const subjects: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const schema = JSON.parse((JSON.parse(body) as { schema: string }).schema) as { name: string };
      subjects.push(`${request.url ?? ''} ${schema.name}`);
      response.setHeader('Content-Type', 'application/vnd.schemaregistry.v1+json');
      response.end(JSON.stringify({ id: schema.name === 'DataAccessEvent' ? 7 : 8 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const transport = new MemoryTransport();
    const audit = await createAuditClient(options(transport, { registryUrl: `http://127.0.0.1:${port}/` }));
    audit.emit({ elements: ['user.name'] });
    audit.emitConsent({ subject: 'member-1' });
    await audit.flush();
    await audit.close();
    assert.deepEqual(subjects, [
      '/subjects/dua.audit.DataAccessEvent/versions DataAccessEvent',
      '/subjects/dua.audit.ConsentChange/versions ConsentChange',
    ]);
    assert.equal(transport.messages[0]?.value.subarray(0, 5).toString('hex'), '0000000007');
    assert.equal(transport.messages[1]?.value.subarray(0, 5).toString('hex'), '0000000008');
  } finally {
    server.close();
  }
});

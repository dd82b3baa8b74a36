/**
 * A Node service using the TypeScript SDK that the Python integration tests drive line by line
 * over stdin: one command per line, one answer per line on stdout (`ok ...` or `error ...`; logs
 * go to stderr). It speaks the protocol of the Java SDK's ScriptedService and Go's dua-scripted.
 *
 * Arguments: `bootstrap topicRaw spoolDirectory subjectKey service [optionsJson]`, the last one
 * merged into the client's options (e.g. `{"kafka": {"deliveryTimeoutMs": 5000}}`). Commands:
 *
 *     emit N PREFIX            N accesses to user.name of subjects PREFIX-0..; answers the ids, comma-separated
 *     access JSON              one access, fields named as the Python SDK's emit arguments; answers its id
 *     flush MILLIS             answers how many events are still on their way
 *     spooled                  answers how many events the spool holds
 *     await-spooled N MILLIS   waits until the spool holds at least N events; answers the spool's count
 *     await-drained MILLIS     waits until the spool is empty; answers the spool's count
 *     stats                    answers "emitted delivered spooled replayed dropped"
 *     close                    closes the client and exits
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuditClient, type Access, type AuditClient, type AuditClientOptions } from '../../src/client.js';

const [bootstrap, topicRaw, spoolDirectory, subjectKey, service, optionsJson] = process.argv.slice(2);
if (service === undefined) {
  process.stderr.write('usage: driver.js bootstrap topicRaw spoolDirectory subjectKey service [optionsJson]\n');
  process.exit(2);
}

/** An access from the Python SDK's `emit` arguments (snake_case) as the SDK's `Access` (camelCase). */
function access(fields: Record<string, unknown>): Access {
  const camel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [camel(k), v])) as unknown as Access;
}

async function until(condition: () => boolean, millis: number): Promise<void> {
  const deadline = Date.now() + millis;
  while (!condition() && Date.now() < deadline) await sleep(20);
}

async function answer(client: AuditClient, command: string, rest: string): Promise<string> {
  const args = rest.split(' ');
  const spooled = (): number => client.stats().spoolPending;
  switch (command) {
    case 'emit':
      return Array.from({ length: Number(args[0]) }, (_, i) =>
        client.emit({ elements: ['user.name'], purpose: 'service.identity_verification', subject: `${args[1]}-${i}` }),
      ).join(',');
    case 'access':
      return client.emit(access(JSON.parse(rest) as Record<string, unknown>));
    case 'flush':
      return String(await client.flush(Number(args[0])));
    case 'spooled':
      return String(spooled());
    case 'await-spooled': {
      const count = Number(args[0]);
      await until(() => spooled() >= count, Number(args[1]));
      return String(spooled());
    }
    case 'await-drained':
      await until(() => spooled() === 0, Number(args[0]));
      return String(spooled());
    case 'stats': {
      const stats = client.stats();
      return [stats.emitted, stats.delivered, stats.spooled, stats.replayed, stats.dropped].join(' ');
    }
    default:
      throw new Error(`unknown command ${command}`);
  }
}

let client: AuditClient;
try {
  client = await createAuditClient({
    metricsRegistry: null,
    delivery: { log: (line) => process.stderr.write(`${line}\n`) },
    service,
    subjectKey: subjectKey as string,
    bootstrap: bootstrap as string,
    topicRaw: topicRaw as string,
    spoolDirectory: spoolDirectory as string,
    ...(optionsJson === undefined ? {} : (JSON.parse(optionsJson) as Partial<AuditClientOptions>)),
  });
} catch (error) {
  process.stdout.write(`error ${String(error).replace(/\n/g, ' ')}\n`);
  process.exit(1);
}
process.stdout.write('ok ready\n');
let closed = false;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const space = line.indexOf(' ');
  const [command, rest] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
  if (command === 'close') {
    await client.close();
    closed = true;
    process.stdout.write('ok closed\n');
    break;
  }
  try {
    process.stdout.write(`ok ${await answer(client, command, rest)}\n`);
  } catch (error) {
    process.stdout.write(`error ${String(error).replace(/\n/g, ' ')}\n`);
  }
}
if (!closed) await client.close();
process.stdin.destroy(); // the only handle left: the process ends once the client is closed

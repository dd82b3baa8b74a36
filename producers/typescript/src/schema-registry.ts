/** The one call of Confluent's schema-registry REST API the SDK needs: register, get the id. */
import { DuaError } from './errors.js';

export async function registerSchema(url: string, subject: string, schema: object): Promise<number> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new DuaError(`schema registry at ${base} did not answer: ${String(error)}`);
  }
  const body = (await response.json().catch(() => ({}))) as { id?: unknown };
  if (!response.ok || typeof body.id !== 'number') {
    throw new DuaError(`schema registry answered ${response.status} for ${subject}`);
  }
  return body.id;
}

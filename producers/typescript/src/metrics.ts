/** The SDK's counters, under the names of the Python and Java SDKs, in one place. */
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';

export const METRIC_HELP = {
  dua_sdk_events_emitted_total: 'Events accepted by emit() (access events and consent changes).',
  dua_sdk_events_delivered_total: 'Events Kafka acknowledged, directly or replayed from the spool.',
  dua_sdk_delivery_failures_total: 'Deliveries Kafka reported failed (the event then goes to the spool).',
  dua_sdk_events_spooled_total: 'Events written to the local spool because Kafka did not take them.',
  dua_sdk_events_replayed_total: 'Spooled events delivered to Kafka by replay.',
  dua_sdk_events_dropped_total: 'Events lost because the spool was full or unwritable. Alert on any.',
} as const;

/** An exported metric name; a misspelt one fails type checking. */
export type MetricName = keyof typeof METRIC_HELP;

/** What a client counted since it started (`AuditClient.stats()`). */
export interface Stats {
  emitted: number;
  delivered: number;
  failed: number;
  spooled: number;
  replayed: number;
  dropped: number;
  /** Spooled events not yet delivered. */
  spoolPending: number;
}

const FIELDS: Record<MetricName, keyof Omit<Stats, 'spoolPending'>> = {
  dua_sdk_events_emitted_total: 'emitted',
  dua_sdk_events_delivered_total: 'delivered',
  dua_sdk_delivery_failures_total: 'failed',
  dua_sdk_events_spooled_total: 'spooled',
  dua_sdk_events_replayed_total: 'replayed',
  dua_sdk_events_dropped_total: 'dropped',
};

/**
 * Counts per client and, unless the registry is null, in Prometheus counters (shared by every
 * client of one registry: they add up).
 */
export class Metrics {
  private readonly counts: Omit<Stats, 'spoolPending'> = {
    emitted: 0, delivered: 0, failed: 0, spooled: 0, replayed: 0, dropped: 0,
  };
  private readonly counters = new Map<MetricName, Counter>();

  constructor(registry: Registry | null = defaultRegistry) {
    if (registry === null) return;
    for (const [name, help] of Object.entries(METRIC_HELP) as [MetricName, string][]) {
      const existing = registry.getSingleMetric(name);
      this.counters.set(
        name,
        existing instanceof Counter ? existing : new Counter({ name, help, registers: [registry] }),
      );
    }
  }

  inc(name: MetricName, by = 1): void {
    if (by === 0) return;
    this.counts[FIELDS[name]] += by;
    this.counters.get(name)?.inc(by);
  }

  snapshot(spoolPending: number): Stats {
    return { ...this.counts, spoolPending };
  }
}

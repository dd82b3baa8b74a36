package dua.producer;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;

/** The SDK's counters, under the same names as the Python SDK's. */
final class Metrics {
  final Counter emitted = counter("dua_sdk_events_emitted", "Events accepted by emit() (access events and consent changes).");
  final Counter delivered = counter("dua_sdk_events_delivered", "Events Kafka acknowledged, directly or replayed from the spool.");
  final Counter failed = counter("dua_sdk_delivery_failures", "Deliveries Kafka reported failed (the event then goes to the spool).");
  final Counter spooled = counter("dua_sdk_events_spooled", "Events written to the local spool because Kafka did not take them.");
  final Counter replayed = counter("dua_sdk_events_replayed", "Spooled events delivered to Kafka by replay.");
  final Counter dropped = counter("dua_sdk_events_dropped", "Events lost because the spool was full or unwritable. Alert on any.");
  private final PrometheusRegistry registry;

  Metrics(PrometheusRegistry registry) {
    this.registry = registry;
    if (registry != null) {
      all().forEach(registry::register);
    }
  }

  private static Counter counter(String name, String help) {
    return Counter.builder().name(name).help(help).build();
  }

  private List<Counter> all() {
    return List.of(emitted, delivered, failed, spooled, replayed, dropped);
  }

  void unregister() {
    if (registry != null) {
      all().forEach(registry::unregister);
    }
  }
}

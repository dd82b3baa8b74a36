package dua.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A JVM service the Python integration tests drive line by line over stdin: one command per
 * line, one answer per line on stdout ({@code ok ...} or {@code error ...}; logs go to stderr).
 *
 * <p>Arguments: {@code bootstrap topicRaw spoolDirectory subjectKey service [kafka.property=value
 * ...]}. Commands:
 *
 * <ul>
 *   <li>{@code emit N PREFIX}: N accesses to {@code user.name} of subjects PREFIX-0..; answers
 *       the event ids, comma-separated;
 *   <li>{@code access JSON}: one access, its fields named as the Python SDK's {@code emit}
 *       arguments; answers its event id;
 *   <li>{@code flush MILLIS}: answers how many events are still on their way;
 *   <li>{@code spooled}: answers how many events the spool holds;
 *   <li>{@code await-spooled N MILLIS}, {@code await-drained MILLIS}: wait until the spool holds
 *       at least N events, or none; answer the spool's count;
 *   <li>{@code stats}: answers {@code emitted delivered spooled replayed dropped};
 *   <li>{@code close}: closes the client and exits.
 * </ul>
 */
public final class ScriptedService {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ScriptedService() {}

  public static void main(String[] args) throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    AuditClient.Builder builder = AuditClient.builder().bootstrap(args[0]).topics(args[1], "dua.consent")
        .spoolDirectory(Path.of(args[2])).subjectKey(args[3]).service(args[4])
        .metricsRegistry(registry);
    for (int i = 5; i < args.length; i++) {
      String[] property = args[i].split("=", 2);
      builder.kafkaProperty(property[0], property[1]);
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    AuditClient client = builder.build();
    out.println("ok ready");
    String line;
    while ((line = in.readLine()) != null) {
      String[] words = line.split(" ", 2);
      try {
        if (words[0].equals("close")) {
          client.close();
          out.println("ok closed");
          return;
        }
        out.println("ok " + answer(client, registry, words[0], words.length > 1 ? words[1] : ""));
      } catch (RuntimeException e) {
        out.println("error " + e.toString().replace('\n', ' '));
      }
    }
    client.close();
  }

  private static String answer(AuditClient client, PrometheusRegistry registry, String command,
      String rest) throws Exception {
    String[] arguments = rest.split(" ");
    switch (command) {
      case "emit": {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < Integer.parseInt(arguments[0]); i++) {
          ids.add(client.emit(Access.builder("user.name").subject(arguments[1] + "-" + i).build()));
        }
        return String.join(",", ids);
      }
      case "access":
        return client.emit(access(JSON.readTree(rest)));
      case "flush":
        return Long.toString(client.flush(Duration.ofMillis(Long.parseLong(arguments[0]))));
      case "await-spooled": {
        long count = Long.parseLong(arguments[0]);
        await(() -> client.spooled() >= count, Long.parseLong(arguments[1]));
        return Long.toString(client.spooled());
      }
      case "spooled":
        return Long.toString(client.spooled());
      case "await-drained":
        await(() -> client.spooled() == 0, Long.parseLong(arguments[0]));
        return Long.toString(client.spooled());
      case "stats":
        return String.join(" ", counter(registry, "emitted"), counter(registry, "delivered"),
            counter(registry, "spooled"), counter(registry, "replayed"), counter(registry, "dropped"));
      default:
        throw new IllegalArgumentException("unknown command " + command);
    }
  }

  /** An access from the Python SDK's {@code emit} arguments as JSON. */
  static Access access(JsonNode fields) {
    List<String> elements = new ArrayList<>();
    fields.get("elements").forEach(element -> elements.add(element.asText()));
    Access.Builder access = Access.builder(elements);
    if (fields.hasNonNull("purpose")) {
      access.purpose(fields.get("purpose").asText());
    }
    if (fields.hasNonNull("subject")) {
      access.subject(fields.get("subject").asText());
    }
    if (fields.hasNonNull("operation")) {
      access.operation(fields.get("operation").asText());
    }
    if (fields.hasNonNull("processing")) {
      access.processing(fields.get("processing").asText());
    }
    if (fields.hasNonNull("destination")) {
      access.destination(fields.get("destination").asText(),
          fields.hasNonNull("destination_name") ? fields.get("destination_name").asText() : null);
    }
    if (fields.hasNonNull("origin_service")) {
      access.originService(fields.get("origin_service").asText());
    }
    access.targetingOptOut(fields.path("targeting_opt_out").asBoolean(false));
    access.publicationConsent(fields.path("publication_consent").asBoolean(false));
    access.payrollOtherUseConsent(fields.path("payroll_other_use_consent").asBoolean(false));
    if (fields.hasNonNull("record_count")) {
      access.recordCount(fields.get("record_count").asLong());
    }
    if (fields.hasNonNull("trace_id")) {
      access.traceId(fields.get("trace_id").asText());
    }
    if (fields.hasNonNull("event_id")) {
      access.eventId(fields.get("event_id").asText());
    }
    if (fields.hasNonNull("occurred_at")) {
      access.occurredAt(Instant.parse(fields.get("occurred_at").asText()));
    }
    for (Map.Entry<String, JsonNode> attribute : fields.path("attributes").properties()) {
      access.attribute(attribute.getKey(), attribute.getValue().asText());
    }
    return access.build();
  }

  private static void await(BooleanSupplier condition, long millis) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000;
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  private static String counter(PrometheusRegistry registry, String event) {
    for (MetricSnapshot snapshot : registry.scrape()) {
      if (snapshot.getMetadata().getName().equals("dua_sdk_events_" + event)) {
        var points = ((CounterSnapshot) snapshot).getDataPoints();
        return points.isEmpty() ? "0" : Long.toString((long) points.get(0).getValue());
      }
    }
    throw new IllegalStateException("no counter for " + event);
  }
}

package dua.producer;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code emit} against a raw {@code KafkaProducer.send} of the very bytes it sends, on one broker:
 * the total per event until everything is acknowledged, median of several timed rounds after a
 * warm-up round. Both producers have the SDK's settings (acks=all, idempotence, lz4, linger 5 ms).
 *
 * <p>Arguments: {@code bootstrap sdkTopic rawTopic events rounds}. Prints one JSON object.
 */
public final class EmitBenchmark {
  private static final String SUBJECT_KEY = "bench-subject-key-0123456789";
  private static final String SERVICE = "hotpepper-gourmet";
  private static final int SUBJECTS = 5_000;

  private EmitBenchmark() {}

  /** The call sites of a service, the shapes the Python SDK's benchmark emits. */
  static Access access(int i) {
    String subject = String.format("member-%05d", (i * 7919L) % SUBJECTS);
    switch (i % 6) {
      case 0:
        return Access.builder("user.name", "user.contact.email").purpose("service.inquiry_response")
            .subject(subject).build();
      case 1:
        return Access.builder("user.account.id", "user.behavior.usage_history")
            .purpose("service.points_program").subject(subject).build();
      case 2:
        return Access.builder("user.behavior.browsing_history", "user.device.ad_id")
            .purpose("marketing.targeted_advertising").destination("AD_PLATFORM", "ads")
            .subject(subject).build();
      case 3:
        return Access.builder("user.behavior.usage_history", "user.behavior.browsing_history")
            .purpose("research.profiling").processing("PSEUDONYMIZED").subject(subject).build();
      case 4:
        return Access.builder("user.account.id", "user.content.message")
            .purpose("service.user_messaging").subject(subject).build();
      default:
        return Access.builder("user.content.review").purpose("improvement.support_quality")
            .processing("STATISTICAL").subject(subject).build();
    }
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String sdkTopic = args[1];
    String rawTopic = args[2];
    int events = Integer.parseInt(args[3]);
    int rounds = Integer.parseInt(args[4]);
    List<Access> accesses = new ArrayList<>(events);
    for (int i = 0; i < events; i++) {
      accesses.add(access(i));
    }
    Path spool = Files.createTempDirectory("dua-bench-spool-");
    List<ProducerRecord<byte[], byte[]>> records = sameBytes(accesses, rawTopic, spool.resolve("bytes"));

    AuditClient.Builder settings = AuditClient.builder().service(SERVICE).subjectKey(SUBJECT_KEY)
        .bootstrap(bootstrap).topics(sdkTopic, "dua.consent").spoolDirectory(spool.resolve("sdk"))
        .metricsRegistry(null);
    Properties rawProperties = AuditClient.producerProperties(settings);
    double[] raw = new double[rounds];
    double[] sdk = new double[rounds];
    double[] sdkCall = new double[rounds];
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(rawProperties);
        AuditClient client = settings.build()) {
      for (int round = -1; round < rounds; round++) { // round -1: warm-up (JIT, metadata, ids)
        long started = System.nanoTime();
        for (ProducerRecord<byte[], byte[]> record : records) {
          producer.send(record);
        }
        producer.flush();
        double rawUs = perEvent(started, events);

        started = System.nanoTime();
        for (Access access : accesses) {
          client.emit(access);
        }
        double callUs = perEvent(started, events);
        if (client.flush(Duration.ofSeconds(120)) != 0 || client.spooled() != 0) {
          throw new IllegalStateException("the SDK did not deliver every event directly");
        }
        double sdkUs = perEvent(started, events);
        if (round >= 0) {
          raw[round] = rawUs;
          sdk[round] = sdkUs;
          sdkCall[round] = callUs;
        }
      }
    }
    System.out.printf(java.util.Locale.ROOT,
        "{\"events\": %d, \"rounds\": %d, \"raw_us_per_event\": %.3f, \"sdk_us_per_event\": %.3f,"
            + " \"sdk_call_us_per_event\": %.3f}%n",
        events, rounds, median(raw), median(sdk), median(sdkCall));
  }

  /** The (key, value) records the SDK sends for {@code accesses}, taken from a MockProducer. */
  private static List<ProducerRecord<byte[], byte[]>> sameBytes(List<Access> accesses, String topic,
      Path spool) {
    MockProducer<byte[], byte[]> mock =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    try (AuditClient client = AuditClient.builder().service(SERVICE).subjectKey(SUBJECT_KEY)
        .spoolDirectory(spool).metricsRegistry(new PrometheusRegistry()).producer(mock)
        .queueSize(accesses.size() + 1).build()) {
      accesses.forEach(client::emit);
      client.flush(Duration.ofSeconds(60));
    }
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    mock.history().forEach(r -> records.add(new ProducerRecord<>(topic, r.key(), r.value())));
    if (records.size() != accesses.size()) {
      throw new IllegalStateException("expected " + accesses.size() + " records, got " + records.size());
    }
    return records;
  }

  private static double perEvent(long startedNanos, int events) {
    return (System.nanoTime() - startedNanos) / 1_000.0 / events;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }
}

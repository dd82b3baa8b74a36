package dua.producer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client on Kafka's MockProducer: validation, keys, framing, spool and replay. No broker. */
@Tag("unit")
class AuditClientTest {
  @TempDir Path spool;

  private static MockProducer<byte[], byte[]> producer(boolean autoComplete) {
    return new MockProducer<>(autoComplete, null, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private AuditClient.Builder client(MockProducer<byte[], byte[]> producer) {
    return AuditClient.builder().service("jalan").subjectKey("unit-test-subject-key-0123456789")
        .spoolDirectory(spool).metricsRegistry(new PrometheusRegistry()).producer(producer)
        .replayTimeout(Duration.ofMillis(200));
  }

  private static Access access() {
    return Access.builder("user.content.survey_answer").purpose("research.surveys").subject(12345L)
        .eventId("00000000-0000-4000-8000-000000000001").occurredAt(Instant.parse("2026-11-01T10:00:00Z"))
        .build();
  }

  /** An emitted access reaches Kafka keyed by the subject's pseudonym, in single-object encoding. */
  @Test
  void emitSendsTheEncodedEvent() {
    MockProducer<byte[], byte[]> producer = producer(true);
    try (AuditClient client = client(producer).build()) {
      client.emit(access());
      assertEquals(0, client.flush(Duration.ofSeconds(5)));
      assertEquals(1, producer.history().size());
      var sent = producer.history().get(0);
      assertEquals("dua.access.raw", sent.topic());
      assertEquals(client.pseudonym(12345L), new String(sent.key(), StandardCharsets.UTF_8));
      assertEquals("jalan", Codec.decode(sent.value()).get("service").toString());
    }
  }

  /** An event breaking the contract throws naming the field, and nothing is sent. */
  @Test
  void invalidEventNamesTheField() {
    MockProducer<byte[], byte[]> producer = producer(true);
    try (AuditClient client = client(producer).build()) {
      InvalidEventException e = assertThrows(InvalidEventException.class,
          () -> client.emit(Access.builder("user.name").purpose("").build()));
      assertEquals("purpose", e.field());
      assertEquals("empty", e.code());
      client.flush(Duration.ofSeconds(1));
      assertTrue(producer.history().isEmpty());
    }
  }

  /** A failed delivery goes to the spool, and the spool is replayed by the next client. */
  @Test
  void failedDeliveryIsSpooledAndReplayedOnStart() {
    MockProducer<byte[], byte[]> failing = producer(false);
    AuditClient first = client(failing).build();
    first.emit(access());
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (failing.history().isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    failing.errorNext(new org.apache.kafka.common.errors.TimeoutException("broker away"));
    first.flush(Duration.ofSeconds(5));
    assertEquals(1, first.spooled());
    first.close(Duration.ofMillis(200));

    MockProducer<byte[], byte[]> working = producer(true);
    try (AuditClient second = client(working).build()) {
      deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (second.spooled() > 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertEquals(0, second.spooled());
      assertEquals(1, working.history().size());
      assertArrayEquals(failing.history().get(0).value(), working.history().get(0).value());
    }
  }

  /** A second client on a spool directory in use is refused. */
  @Test
  void spoolDirectoryIsOwnedByOneClient() {
    AuditClient owner = client(producer(true)).build();
    try {
      assertThrows(DuaException.class, () -> client(producer(true)).build());
    } finally {
      owner.close();
    }
  }

  /** With a registry URL the schema is registered once and messages carry Confluent framing. */
  @Test
  void registryUrlGivesConfluentFraming() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/subjects/", exchange -> {
      calls.incrementAndGet();
      byte[] body = "{\"id\":77}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      MockProducer<byte[], byte[]> producer = producer(true);
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      try (AuditClient client = client(producer).registryUrl(url).build()) {
        client.emit(access());
        client.flush(Duration.ofSeconds(5));
        byte[] value = producer.history().get(0).value();
        assertArrayEquals(new byte[] {0, 0, 0, 0, 77}, java.util.Arrays.copyOf(value, 5));
      }
      assertEquals(2, calls.get());
    } finally {
      server.stop(0);
    }
  }

  /** The SDK's own producer settings are accepted by a real KafkaProducer (built, no broker). */
  @Test
  void producerSettingsAreValid() {
    AuditClient.Builder settings = AuditClient.builder().service("jalan")
        .subjectKey("unit-test-subject-key-0123456789").bootstrap("127.0.0.1:9");
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(
        AuditClient.producerProperties(settings))) {
      assertTrue(producer.metrics().size() > 0);
    }
  }

  /** Calls after close fail fast. */
  @Test
  void callsAfterCloseFail() {
    AuditClient client = client(producer(true)).build();
    client.close();
    assertThrows(IllegalStateException.class, () -> client.emit(access()));
    assertThrows(IllegalStateException.class, () -> client.flush(Duration.ofSeconds(1)));
  }

  /** While Kafka acknowledges nothing, flush returns after its timeout with the count unsettled. */
  @Test
  void flushKeepsItsTimeoutWhileKafkaIsSilent() {
    MockProducer<byte[], byte[]> silent = producer(false);
    AuditClient client = client(silent).build();
    try {
      client.emit(access());
      client.emit(access());
      long started = System.nanoTime();
      assertEquals(2, client.flush(Duration.ofMillis(300)));
      long tookMs = (System.nanoTime() - started) / 1_000_000;
      assertTrue(tookMs >= 250 && tookMs < 3_000, "flush took " + tookMs + " ms");
      silent.completeNext();
      silent.completeNext();
      assertEquals(0, client.flush(Duration.ofSeconds(5)));
    } finally {
      client.close(Duration.ofMillis(200));
    }
  }
}

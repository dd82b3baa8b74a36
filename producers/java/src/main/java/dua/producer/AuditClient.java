package dua.producer;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Reports accesses to personal data and consent changes to the audit pipeline. Build one per
 * process at start-up with {@link #builder()}, {@link #close()} it at shutdown.
 *
 * <p>{@link #emit} validates (an {@link InvalidEventException} names the field), pseudonymizes
 * the subject, encodes and queues; it never blocks and never throws for delivery problems: what
 * Kafka does not take goes to the spool directory and is replayed, also on the next start.
 */
public final class AuditClient implements AutoCloseable {
  private final String service;
  private final String actorKind;
  private final String actorId;
  private final String topicRaw;
  private final String topicConsent;
  private final Clock clock;
  private final Pseudonyms pseudonyms;
  private final byte[] accessHeader;
  private final byte[] consentHeader;
  private final Producer<byte[], byte[]> producer;
  private final Spool spool;
  private final Metrics metrics;
  private final Delivery delivery;
  private volatile boolean closed;

  private AuditClient(Builder b) {
    service = b.service;
    actorKind = b.actorKind;
    actorId = b.actorId != null ? b.actorId : b.service;
    topicRaw = b.topicRaw;
    topicConsent = b.topicConsent;
    clock = b.clock;
    pseudonyms = new Pseudonyms(b.subjectKey);
    if (b.registryUrl != null) {
      SchemaRegistry registry = new SchemaRegistry(b.registryUrl);
      accessHeader = Codec.confluentHeader(registry.register(
          "dua.audit." + Codec.DATA_ACCESS_EVENT, Codec.DATA_ACCESS_EVENT_SCHEMA.toString()));
      consentHeader = Codec.confluentHeader(registry.register(
          "dua.audit." + Codec.CONSENT_CHANGE, Codec.CONSENT_CHANGE_SCHEMA.toString()));
    } else {
      accessHeader = Codec.singleObjectHeader(Codec.DATA_ACCESS_EVENT_FINGERPRINT);
      consentHeader = Codec.singleObjectHeader(Codec.CONSENT_CHANGE_FINGERPRINT);
    }
    spool = new Spool(b.spoolDirectory, b.spoolMaxBytes, b.spoolSegmentBytes);
    metrics = new Metrics(b.metricsRegistry);
    producer = b.producer != null ? b.producer : new KafkaProducer<>(producerProperties(b));
    delivery = new Delivery(producer, spool, metrics, b.queueSize, b.replayTimeout);
  }

  static Properties producerProperties(Builder b) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "dua-producer." + b.service);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
    // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms (default 30000)
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.putAll(b.kafkaProperties);
    return p;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reports one access; returns its event id. Throws {@link InvalidEventException} for an event
   * that breaks the contract, before anything is sent; never blocks on Kafka.
   */
  public String emit(Access access) {
    checkOpen();
    String subjectId = access.subject == null ? null : pseudonyms.pseudonym(access.subject);
    String eventId = access.eventId != null ? access.eventId : UUID.randomUUID().toString();
    long millis = access.occurredAt != null ? access.occurredAt.toEpochMilli() : clock.millis();
    EventRecord record = new EventRecord(eventId, millis, service, actorKind, actorId, subjectId,
        access.elements, access.purpose, access.operation, access.processing, access.destination,
        access.destinationName, access.originService, access.targetingOptOut,
        access.publicationConsent, access.payrollOtherUseConsent, access.recordCount,
        access.traceId, access.attributes);
    Validation.check(record);
    byte[] value = Codec.frame(accessHeader, Codec.body(Codec.toAvro(record)));
    metrics.emitted.inc();
    delivery.send(topicRaw, (subjectId != null ? subjectId : eventId).getBytes(java.nio.charset.StandardCharsets.UTF_8), value);
    return eventId;
  }

  /** Reports a subject's complete current consent choices (an omitted flag means "not given"). */
  public void emitConsent(Object subject, boolean targetingOptOut, boolean publicationConsent,
      boolean payrollOtherUseConsent) {
    emitConsent(subject, targetingOptOut, publicationConsent, payrollOtherUseConsent, false);
  }

  /**
   * Reports a subject's complete current consent choices, {@code thirdPartyLinkConsent}
   * included: consent to provide informative data to a recipient who can link it to the person
   * (APPI Art. 31).
   */
  public void emitConsent(Object subject, boolean targetingOptOut, boolean publicationConsent,
      boolean payrollOtherUseConsent, boolean thirdPartyLinkConsent) {
    checkOpen();
    String subjectId = pseudonyms.pseudonym(subject);
    ConsentRecord record = new ConsentRecord(subjectId, clock.millis(), targetingOptOut,
        publicationConsent, payrollOtherUseConsent, thirdPartyLinkConsent);
    Validation.check(record);
    byte[] value = Codec.frame(consentHeader, Codec.body(Codec.toAvro(record)));
    metrics.emitted.inc();
    delivery.send(topicConsent, subjectId.getBytes(java.nio.charset.StandardCharsets.UTF_8), value);
  }

  /** The pseudonym this client puts in events for {@code rawId} (subject-access requests). */
  public String pseudonym(Object rawId) {
    return pseudonyms.pseudonym(rawId);
  }

  /**
   * Waits up to {@code timeout} until every event emitted so far is acknowledged by Kafka or on
   * disk in the spool; returns how many are still on their way (0: all settled, the same result
   * as the other SDKs' {@code flush}). Never waits longer than {@code timeout}, also while the
   * broker is down; throws {@link IllegalStateException} after {@link #close()}.
   */
  public long flush(Duration timeout) {
    checkOpen();
    long remaining;
    try {
      remaining = delivery.awaitSettled(System.nanoTime() + timeout.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      remaining = delivery.unsettled();
    }
    spool.sync();
    return remaining;
  }

  /** Events in the spool, not yet delivered. */
  public long spooled() {
    return spool.pending();
  }

  /** Delivers what can be within 10 s, spools the rest and stops; later calls fail fast. */
  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }

  /** Delivers what can be within {@code timeout}, spools the rest and stops. */
  public synchronized void close(Duration timeout) {
    if (closed) {
      return;
    }
    closed = true;
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      delivery.stop(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    } finally {
      spool.close();
      metrics.unregister();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the audit client is closed: emit and flush before close()");
    }
  }

  /** Immutable settings of a client; {@code service}, {@code subjectKey} and a bootstrap are required. */
  public static final class Builder {
    private String service;
    private String subjectKey;
    private String bootstrap;
    private Path spoolDirectory;
    private String registryUrl;
    private final Map<String, String> kafkaProperties = new HashMap<>();
    private String actorKind = "SERVICE";
    private String actorId;
    private String topicRaw = "dua.access.raw";
    private String topicConsent = "dua.consent";
    private Clock clock = Clock.systemUTC();
    private long spoolMaxBytes = 256L * 1024 * 1024;
    private long spoolSegmentBytes = 16L * 1024 * 1024;
    private int queueSize = 65_536;
    private Duration replayTimeout = Duration.ofSeconds(60); // > delivery.timeout.ms: outcomes known
    private PrometheusRegistry metricsRegistry = PrometheusRegistry.defaultRegistry;
    private Producer<byte[], byte[]> producer;

    private Builder() {}

    /** The emitting service's code, e.g. {@code jalan}. */
    public Builder service(String service) {
      this.service = service;
      return this;
    }

    /** The company-wide key subject ids are pseudonymized with (HMAC-SHA256). */
    public Builder subjectKey(String subjectKey) {
      this.subjectKey = subjectKey;
      return this;
    }

    public Builder bootstrap(String bootstrapServers) {
      this.bootstrap = bootstrapServers;
      return this;
    }

    /** Where events wait when Kafka does not take them; one process per directory (locked). */
    public Builder spoolDirectory(Path directory) {
      this.spoolDirectory = directory;
      return this;
    }

    /** A Confluent-compatible schema registry: messages then carry Confluent framing. */
    public Builder registryUrl(String url) {
      this.registryUrl = url;
      return this;
    }

    /** An extra Kafka producer property (wins over the SDK's). */
    public Builder kafkaProperty(String name, String value) {
      this.kafkaProperties.put(name, value);
      return this;
    }

    public Builder actor(String kind, String id) {
      this.actorKind = kind;
      this.actorId = id;
      return this;
    }

    public Builder topics(String raw, String consent) {
      this.topicRaw = raw;
      this.topicConsent = consent;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    public Builder spoolMaxBytes(long bytes) {
      this.spoolMaxBytes = bytes;
      return this;
    }

    /** Events held in memory on their way to Kafka; past it, emit spools directly. */
    public Builder queueSize(int size) {
      this.queueSize = size;
      return this;
    }

    /** How long a replay waits for Kafka's answers (keep it above {@code delivery.timeout.ms}). */
    public Builder replayTimeout(Duration timeout) {
      this.replayTimeout = timeout;
      return this;
    }

    /** Where the counters are registered (default: the Prometheus default registry; null: none). */
    public Builder metricsRegistry(PrometheusRegistry registry) {
      this.metricsRegistry = registry;
      return this;
    }

    /** A producer to use instead of a KafkaProducer (tests: {@code MockProducer}). */
    Builder producer(Producer<byte[], byte[]> producer) {
      this.producer = producer;
      return this;
    }

    public AuditClient build() {
      require(service, "service");
      require(subjectKey, "subjectKey");
      require(spoolDirectory, "spoolDirectory");
      if (producer == null) {
        require(bootstrap, "bootstrap");
      }
      if (Validation.isBlank(service)) {
        throw new DuaException("service must not be empty");
      }
      if (subjectKey.length() < 16) {
        throw new DuaException("subjectKey must be at least 16 characters");
      }
      return new AuditClient(this);
    }

    private static void require(Object value, String name) {
      if (value == null) {
        throw new DuaException(name + " is required");
      }
    }
  }
}

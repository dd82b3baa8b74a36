package dua.producer;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One access to personal data: which elements, for which purpose, sent where. Element codes
 * only, never values. Immutable; build with {@link #builder(String...)}.
 *
 * <p>{@code subject} is the raw id of the person (a {@code String}, {@code Long}/{@code Integer}
 * or {@code UUID}); only its pseudonym leaves the process.
 */
public final class Access {
  final List<String> elements;
  final String purpose;
  final Object subject;
  final String operation;
  final String processing;
  final String destination;
  final String destinationName;
  final String originService;
  final boolean targetingOptOut;
  final boolean publicationConsent;
  final boolean payrollOtherUseConsent;
  final long recordCount;
  final String traceId;
  final Map<String, String> attributes;
  final String eventId;
  final Instant occurredAt;

  private Access(Builder b) {
    elements = List.copyOf(b.elements);
    purpose = b.purpose;
    subject = b.subject;
    operation = b.operation;
    processing = b.processing;
    destination = b.destination;
    destinationName = b.destinationName;
    originService = b.originService;
    targetingOptOut = b.targetingOptOut;
    publicationConsent = b.publicationConsent;
    payrollOtherUseConsent = b.payrollOtherUseConsent;
    recordCount = b.recordCount;
    traceId = b.traceId;
    attributes = Map.copyOf(b.attributes);
    eventId = b.eventId;
    occurredAt = b.occurredAt;
  }

  /** A builder for an access to {@code elements} (element codes, e.g. {@code user.name}). */
  public static Builder builder(String... elements) {
    return new Builder(List.of(elements));
  }

  /** A builder for an access to {@code elements}. */
  public static Builder builder(List<String> elements) {
    return new Builder(elements);
  }

  /** Sets the fields of one access; {@link #build()} makes the immutable value. */
  public static final class Builder {
    private final List<String> elements;
    private String purpose;
    private Object subject;
    private String operation = "READ";
    private String processing = "RAW";
    private String destination = "INTERNAL";
    private String destinationName;
    private String originService;
    private boolean targetingOptOut;
    private boolean publicationConsent;
    private boolean payrollOtherUseConsent;
    private long recordCount = 1;
    private String traceId;
    private final Map<String, String> attributes = new TreeMap<>();
    private String eventId;
    private Instant occurredAt;

    private Builder(List<String> elements) {
      this.elements = Objects.requireNonNull(elements, "elements");
    }

    public Builder purpose(String purpose) {
      this.purpose = purpose;
      return this;
    }

    public Builder subject(Object rawId) {
      this.subject = rawId;
      return this;
    }

    /** {@code READ} (default), {@code WRITE}, {@code DELETE}, {@code EXPORT}, {@code SHARE}, {@code JOIN}. */
    public Builder operation(String operation) {
      this.operation = operation;
      return this;
    }

    /** {@code RAW} (default), {@code PSEUDONYMIZED}, {@code STATISTICAL}. */
    public Builder processing(String processing) {
      this.processing = processing;
      return this;
    }

    /** Where the data went: a destination kind ({@code INTERNAL} by default) and its name. */
    public Builder destination(String kind, String name) {
      this.destination = kind;
      this.destinationName = name;
      return this;
    }

    public Builder originService(String originService) {
      this.originService = originService;
      return this;
    }

    public Builder targetingOptOut(boolean value) {
      this.targetingOptOut = value;
      return this;
    }

    public Builder publicationConsent(boolean value) {
      this.publicationConsent = value;
      return this;
    }

    public Builder payrollOtherUseConsent(boolean value) {
      this.payrollOtherUseConsent = value;
      return this;
    }

    public Builder recordCount(long recordCount) {
      this.recordCount = recordCount;
      return this;
    }

    public Builder traceId(String traceId) {
      this.traceId = traceId;
      return this;
    }

    public Builder attribute(String key, String value) {
      this.attributes.put(key, value);
      return this;
    }

    /** A fixed event id (a UUID); by default a random one is made at emit time. */
    public Builder eventId(String eventId) {
      this.eventId = eventId;
      return this;
    }

    /** When the access happened; by default the client's clock at emit time. */
    public Builder occurredAt(Instant occurredAt) {
      this.occurredAt = occurredAt;
      return this;
    }

    public Access build() {
      return new Access(this);
    }
  }
}

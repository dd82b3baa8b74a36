package dua.producer;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * The wire format: Avro single-object encoding ({@code C3 01}, the CRC-64-AVRO fingerprint
 * little-endian, the body) or Confluent framing ({@code 00}, a 4-byte big-endian schema id, the
 * body). Map entries are written sorted by the UTF-8 bytes of their keys (code-point order).
 */
final class Codec {
  static final String DATA_ACCESS_EVENT = "DataAccessEvent";
  static final String CONSENT_CHANGE = "ConsentChange";
  /** The pinned fingerprints (conformance suite, schemas section); a test checks Avro agrees. */
  static final long DATA_ACCESS_EVENT_FINGERPRINT = 3709194380617373610L;
  static final long CONSENT_CHANGE_FINGERPRINT = 2426751406114570129L;

  static final Schema DATA_ACCESS_EVENT_SCHEMA = load(DATA_ACCESS_EVENT);
  static final Schema CONSENT_CHANGE_SCHEMA = load(CONSENT_CHANGE);

  /** UTF-8 byte order is code-point order ({@code String.compareTo} compares UTF-16 units). */
  static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  };

  private Codec() {}

  static Schema load(String name) {
    // the version the SDK writes: the newest of each record
    String version = name.equals(CONSENT_CHANGE) ? "v2" : "v1";
    String path = "/dua/producer/avro/" + name + "/" + version + ".avsc";
    try (InputStream in = Codec.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new DuaException("schema resource " + path + " is missing from the SDK jar");
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static <V> Map<String, V> inOrder(Map<String, V> map) {
    Map<String, V> sorted = new TreeMap<>(CODE_POINT_ORDER);
    sorted.putAll(map);
    return sorted;
  }

  static byte[] singleObjectHeader(long fingerprint) {
    return ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN)
        .put((byte) 0xC3).put((byte) 0x01).putLong(fingerprint).array();
  }

  static byte[] confluentHeader(int schemaId) {
    return ByteBuffer.allocate(5).put((byte) 0).putInt(schemaId).array();
  }

  static GenericRecord toAvro(EventRecord e) {
    Schema s = DATA_ACCESS_EVENT_SCHEMA;
    GenericRecord r = new GenericData.Record(s);
    r.put("event_id", e.eventId());
    r.put("occurred_at", e.occurredAtMillis());
    r.put("service", e.service());
    GenericRecord actor = new GenericData.Record(s.getField("actor").schema());
    actor.put("kind", symbol(actor.getSchema().getField("kind").schema(), e.actorKind()));
    actor.put("id", e.actorId());
    r.put("actor", actor);
    r.put("subject_id", e.subjectId());
    r.put("elements", new GenericData.Array<>(s.getField("elements").schema(), e.elements()));
    r.put("purpose", e.purpose());
    r.put("operation", symbol(s.getField("operation").schema(), e.operation()));
    r.put("processing", symbol(s.getField("processing").schema(), e.processing()));
    GenericRecord destination = new GenericData.Record(s.getField("destination").schema());
    destination.put("kind", symbol(destination.getSchema().getField("kind").schema(), e.destinationKind()));
    destination.put("name", e.destinationName());
    r.put("destination", destination);
    r.put("origin_service", e.originService());
    GenericRecord consent = new GenericData.Record(s.getField("consent").schema());
    consent.put("targeting_opt_out", e.targetingOptOut());
    consent.put("publication_consent", e.publicationConsent());
    consent.put("payroll_other_use_consent", e.payrollOtherUseConsent());
    r.put("consent", consent);
    r.put("record_count", (int) e.recordCount());
    r.put("trace_id", e.traceId());
    r.put("attributes", inOrder(e.attributes()));
    return r;
  }

  static GenericRecord toAvro(ConsentRecord c) {
    GenericRecord r = new GenericData.Record(CONSENT_CHANGE_SCHEMA);
    r.put("subject_id", c.subjectId());
    r.put("occurred_at", c.occurredAtMillis());
    r.put("targeting_opt_out", c.targetingOptOut());
    r.put("publication_consent", c.publicationConsent());
    r.put("payroll_other_use_consent", c.payrollOtherUseConsent());
    r.put("third_party_link_consent", c.thirdPartyLinkConsent());
    return r;
  }

  private static GenericData.EnumSymbol symbol(Schema schema, String value) {
    return new GenericData.EnumSymbol(schema, value);
  }

  /** One writer per schema (a writer holds no state of a write; building one is not free). */
  private static final java.util.Map<Schema, GenericDatumWriter<GenericRecord>> WRITERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The Avro binary body of {@code record}. */
  static byte[] body(GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      WRITERS.computeIfAbsent(record.getSchema(), GenericDatumWriter::new).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] frame(byte[] header, byte[] body) {
    byte[] out = new byte[header.length + body.length];
    System.arraycopy(header, 0, out, 0, header.length);
    System.arraycopy(body, 0, out, header.length, body.length);
    return out;
  }

  /** A message that could not be decoded; {@code reason} is the suite's error kind. */
  static final class Undecodable extends DuaException {
    private static final long serialVersionUID = 1L;
    final String reason;

    Undecodable(String reason, String detail) {
      super(reason + ": " + detail);
      this.reason = reason;
    }
  }

  /** Decodes a single-object message of a record this SDK writes (tests, tools). */
  static GenericRecord decode(byte[] payload) {
    if (payload.length == 0) {
      throw new Undecodable("empty_payload", "the message has no bytes");
    }
    Schema schema;
    int start;
    if (payload.length >= 2 && payload[0] == (byte) 0xC3 && payload[1] == 0x01) {
      if (payload.length < 10) {
        throw new Undecodable("truncated", "single-object header is shorter than 10 bytes");
      }
      long fp = ByteBuffer.wrap(payload, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (fp == DATA_ACCESS_EVENT_FINGERPRINT) {
        schema = DATA_ACCESS_EVENT_SCHEMA;
      } else if (fp == CONSENT_CHANGE_FINGERPRINT) {
        schema = CONSENT_CHANGE_SCHEMA;
      } else {
        throw new Undecodable("unknown_fingerprint", "no released schema has this fingerprint");
      }
      start = 10;
    } else if (payload[0] == 0) {
      if (payload.length < 5) {
        throw new Undecodable("truncated", "Confluent header is shorter than 5 bytes");
      }
      throw new Undecodable("no_registry", "message framed for a schema-registry id");
    } else {
      throw new Undecodable("unknown_framing", "expected c301 or 00");
    }
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(payload, start, payload.length - start, null);
    GenericRecord record;
    try {
      record = new GenericDatumReader<GenericRecord>(schema).read(null, decoder);
    } catch (EOFException e) {
      throw new Undecodable("truncated", schema.getName() + " body ends early");
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new Undecodable("corrupt_body", schema.getName() + " body: " + e);
    }
    try {
      if (!decoder.isEnd()) {
        throw new Undecodable("trailing_bytes", "bytes after the " + schema.getName() + " body");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return record;
  }

  /** A decoded record as plain Java values (strings, longs, booleans, lists, maps). */
  static Map<String, Object> plain(GenericRecord record) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Schema.Field f : record.getSchema().getFields()) {
      out.put(f.name(), plainValue(record.get(f.name())));
    }
    return out;
  }

  private static Object plainValue(Object v) {
    if (v instanceof GenericRecord r) {
      return plain(r);
    }
    if (v instanceof CharSequence || v instanceof GenericData.EnumSymbol) {
      return v.toString();
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      list.forEach(x -> out.add(plainValue(x)));
      return out;
    }
    if (v instanceof Map<?, ?> map) {
      Map<String, Object> out = new TreeMap<>(CODE_POINT_ORDER);
      map.forEach((k, x) -> out.put(k.toString(), plainValue(x)));
      return out;
    }
    return v;
  }
}

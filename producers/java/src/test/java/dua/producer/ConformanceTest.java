package dua.producer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/** The Java SDK against every case of the conformance suite. */
@Tag("unit")
class ConformanceTest {

  private static Stream<DynamicTest> cases(String section, String key, CaseCheck check) {
    return Suite.list(Suite.section(section).get(key)).stream().map(c -> dynamicTest(
        section + ": " + (c.has("name") ? c.get("name").asText() : c.get("record").asText()),
        () -> check.run(c)));
  }

  interface CaseCheck {
    void run(JsonNode c) throws Exception;
  }

  /** Avro's canonical form and CRC-64-AVRO agree with the pinned ones, and so do the SDK's constants. */
  @TestFactory
  Stream<DynamicTest> schemas() {
    return cases("schemas", "cases", c -> {
      if (!c.path("latest").asBoolean(true)) {
        return; // an older version: the SDK writes the newest one only
      }
      Schema schema = Codec.load(c.get("record").asText());
      assertEquals(c.get("canonical_form").asText(), SchemaNormalization.toParsingForm(schema));
      long pinned = c.get("fingerprint_int64").asLong();
      assertEquals(pinned, SchemaNormalization.parsingFingerprint64(schema));
      long constant = c.get("record").asText().equals(Codec.DATA_ACCESS_EVENT)
          ? Codec.DATA_ACCESS_EVENT_FINGERPRINT : Codec.CONSENT_CHANGE_FINGERPRINT;
      assertEquals(pinned, constant);
      assertEquals(c.get("fingerprint_hex").asText(), Suite.HEX.formatHex(Codec.singleObjectHeader(constant), 2, 10));
    });
  }

  /** JSON input encodes to the pinned single-object and Confluent-framed bytes. */
  @TestFactory
  Stream<DynamicTest> encode() {
    int schemaId = Suite.section("encode").get("confluent_schema_id").asInt();
    return cases("encode", "cases", c -> {
      byte[] body;
      long fingerprint;
      if (c.get("record").asText().equals(Codec.CONSENT_CHANGE)) {
        ConsentRecord record = Suite.consent(c.get("input"));
        Validation.check(record);
        body = Codec.body(Codec.toAvro(record));
        fingerprint = Codec.CONSENT_CHANGE_FINGERPRINT;
      } else {
        EventRecord record = Suite.event(c.get("input"));
        if (c.path("valid").asBoolean(true)) {
          Validation.check(record);
        } else {
          assertThrows(InvalidEventException.class, () -> Validation.check(record));
        }
        body = Codec.body(Codec.toAvro(record));
        fingerprint = Codec.DATA_ACCESS_EVENT_FINGERPRINT;
      }
      assertEquals(c.get("single_object_hex").asText(),
          Suite.HEX.formatHex(Codec.frame(Codec.singleObjectHeader(fingerprint), body)));
      assertEquals(c.get("confluent_hex").asText(),
          Suite.HEX.formatHex(Codec.frame(Codec.confluentHeader(schemaId), body)));
    });
  }

  /** Bytes decode to the pinned record, or fail with the pinned error kind. */
  @TestFactory
  Stream<DynamicTest> decode() {
    return cases("decode", "cases", c -> {
      byte[] payload = Suite.HEX.parseHex(c.get("hex").asText());
      if (c.has("error")) {
        Codec.Undecodable e = assertThrows(Codec.Undecodable.class, () -> Codec.decode(payload));
        assertEquals(c.get("error").asText(), e.reason);
        return;
      }
      Map<String, Object> decoded = Codec.plain(Codec.decode(payload));
      Map<String, Object> expected = plain(Suite.JSON.convertValue(c.get("json"), Map.class));
      expected.put("occurred_at", Suite.millis(c.get("json").get("occurred_at")));
      assertEquals(expected, plain(decoded));
    });
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> plain(Map<?, ?> map) {
    Map<String, Object> out = new TreeMap<>();
    map.forEach((k, v) -> out.put(k.toString(), v instanceof Map<?, ?> m ? plain(m)
        : v instanceof Number n ? (Object) n.longValue()
        : v instanceof List<?> l ? new ArrayList<>((List<Object>) l) : v));
    return out;
  }

  /** Key and raw id give the pinned pseudonym, or the pinned error code. */
  @TestFactory
  Stream<DynamicTest> pseudonym() {
    return cases("pseudonym", "cases", c -> {
      Pseudonyms pseudonyms = new Pseudonyms(c.get("key").asText());
      JsonNode input = c.get("input");
      Object raw;
      if (input.has("int")) {
        BigInteger big = new BigInteger(input.get("int").asText());
        raw = big.bitLength() < 64 ? (Object) big.longValue() : big;
      } else if (input.has("uuid")) {
        raw = UUID.fromString(input.get("uuid").asText());
      } else {
        raw = input.get("string").asText();
      }
      if (c.has("error")) {
        InvalidEventException e = assertThrows(InvalidEventException.class, () -> pseudonyms.pseudonym(raw));
        assertEquals("subject", e.field());
        assertEquals(c.get("error").asText(), e.code());
      } else {
        assertEquals(c.get("pseudonym").asText(), pseudonyms.pseudonym(raw));
      }
    });
  }

  /** Valid inputs pass; the others fail naming the pinned field and code. */
  @TestFactory
  Stream<DynamicTest> validate() {
    return cases("validate", "cases", c -> {
      EventRecord record = Suite.event(c.get("input"));
      JsonNode error = c.get("error");
      if (error.isNull()) {
        Validation.check(record);
        return;
      }
      InvalidEventException e = assertThrows(InvalidEventException.class, () -> Validation.check(record));
      assertEquals(error.get("field").asText() + "/" + error.get("code").asText(), e.field() + "/" + e.code());
    });
  }

  /** Records frame to the pinned segment bytes. */
  @TestFactory
  Stream<DynamicTest> spoolWrite() {
    return cases("spool", "write", c -> {
      StringBuilder hex = new StringBuilder();
      for (JsonNode r : c.get("records")) {
        hex.append(Suite.HEX.formatHex(SpoolFormat.frame(r.get("topic").asText(),
            Suite.HEX.parseHex(r.get("key_hex").asText()), Suite.HEX.parseHex(r.get("value_hex").asText()))));
      }
      assertEquals(c.get("segment_hex").asText(), hex.toString());
    });
  }

  /** Segments scan to their intact records and stop where, and for the reason, pinned. */
  @TestFactory
  Stream<DynamicTest> spoolRead() {
    return cases("spool", "read", c -> {
      SpoolFormat.Scan scan = SpoolFormat.scan(Suite.HEX.parseHex(c.get("segment_hex").asText()), c.get("start").asInt());
      List<JsonNode> expected = Suite.list(c.get("records"));
      assertEquals(expected.size(), scan.records().size());
      for (int i = 0; i < expected.size(); i++) {
        SpoolFormat.SpoolRecord r = scan.records().get(i);
        assertEquals(expected.get(i).get("topic").asText(), r.topic());
        assertArrayEquals(Suite.HEX.parseHex(expected.get(i).get("key_hex").asText()), r.key());
        assertArrayEquals(Suite.HEX.parseHex(expected.get(i).get("value_hex").asText()), r.value());
        assertEquals(expected.get(i).get("end").asLong(), r.end());
      }
      JsonNode stop = c.get("stop");
      assertEquals(stop.get("offset").asLong(), scan.end().offset());
      assertEquals(stop.get("clean").asBoolean(), scan.end().clean());
      assertEquals(Suite.text(stop, "reason"), scan.end().reason());
      assertFalse(scan.end().clean() && scan.end().reason() != null);
    });
  }
}

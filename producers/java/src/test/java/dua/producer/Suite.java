package dua.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the conformance suite ({@code producers/conformance/suite}) and its JSON form of events. */
final class Suite {
  static final Path ROOT = Path.of(System.getProperty("dua.conformance", "../conformance/suite"));
  static final ObjectMapper JSON = new ObjectMapper();
  static final HexFormat HEX = HexFormat.of();

  private Suite() {}

  static JsonNode section(String name) {
    try {
      JsonNode node = JSON.readTree(Files.readString(ROOT.resolve(name + ".json")));
      if (node.get("spec_version").asInt() != 1) {
        throw new AssertionError("this runner knows spec_version 1");
      }
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<JsonNode> list(JsonNode node) {
    List<JsonNode> out = new ArrayList<>();
    node.forEach(out::add);
    return out;
  }

  static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  static long millis(JsonNode value) {
    return value.isNumber() ? value.asLong() : Instant.parse(value.asText()).toEpochMilli();
  }

  /** The JSON form of a DataAccessEvent as the SDK's record (defaults as in the contract). */
  static EventRecord event(JsonNode j) {
    JsonNode actor = j.get("actor");
    JsonNode destination = j.path("destination");
    JsonNode consent = j.path("consent");
    List<String> elements = new ArrayList<>();
    j.get("elements").forEach(e -> elements.add(e.asText()));
    Map<String, String> attributes = new LinkedHashMap<>();
    j.path("attributes").properties().forEach(e -> attributes.put(e.getKey(), e.getValue().asText()));
    return new EventRecord(text(j, "event_id"), millis(j.get("occurred_at")), text(j, "service"),
        text(actor, "kind"), text(actor, "id"), text(j, "subject_id"), elements, text(j, "purpose"),
        j.has("operation") ? text(j, "operation") : "READ",
        j.has("processing") ? text(j, "processing") : "RAW",
        destination.has("kind") ? text(destination, "kind") : "INTERNAL", text(destination, "name"),
        text(j, "origin_service"), consent.path("targeting_opt_out").asBoolean(false),
        consent.path("publication_consent").asBoolean(false),
        consent.path("payroll_other_use_consent").asBoolean(false),
        j.has("record_count") ? j.get("record_count").asLong() : 1, text(j, "trace_id"), attributes);
  }

  static ConsentRecord consent(JsonNode j) {
    return new ConsentRecord(text(j, "subject_id"), millis(j.get("occurred_at")),
        j.path("targeting_opt_out").asBoolean(false), j.path("publication_consent").asBoolean(false),
        j.path("payroll_other_use_consent").asBoolean(false),
        j.path("third_party_link_consent").asBoolean(false));
  }
}

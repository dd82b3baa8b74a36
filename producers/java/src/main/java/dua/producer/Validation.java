package dua.producer;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The contract's checks beyond Avro types, in the order and with the codes of every dua SDK
 * ({@code producers/conformance/README.md}): the first problem found is reported.
 */
final class Validation {
  static final int MAX_ELEMENTS = 256;
  static final int MAX_CODE_LENGTH = 128;
  static final int MAX_TEXT_LENGTH = 512;
  static final int MAX_ATTRIBUTES = 32;
  static final long MAX_RECORD_COUNT = Integer.MAX_VALUE;

  static final List<String> ACTOR_KINDS = List.of("SERVICE", "EMPLOYEE", "USER", "PARTNER", "BATCH_JOB");
  static final List<String> OPERATIONS = List.of("READ", "WRITE", "DELETE", "EXPORT", "SHARE", "JOIN");
  static final List<String> PROCESSING = List.of("RAW", "PSEUDONYMIZED", "STATISTICAL");
  static final List<String> DESTINATION_KINDS =
      List.of("INTERNAL", "GROUP_SERVICE", "CLIENT", "AD_PLATFORM", "EMPLOYER", "PUBLIC", "FINANCIAL_INSTITUTION");

  /** The Unicode White_Space property: a text of only these is empty (not U+FEFF, not U+001C..1F). */
  private static final Set<Integer> WHITE_SPACE =
      Set.of(0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
          0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
          0x3000);

  private Validation() {}

  static boolean isBlank(String value) {
    return value.codePoints().allMatch(WHITE_SPACE::contains);
  }

  static void check(EventRecord e) {
    text(e.eventId(), "event_id", MAX_TEXT_LENGTH, false);
    if (!isUuid(e.eventId())) {
      throw new InvalidEventException("event_id", "not_uuid", "is not a UUID");
    }
    text(e.service(), "service", MAX_CODE_LENGTH, false);
    symbol(e.actorKind(), "actor.kind", ACTOR_KINDS);
    text(e.actorId(), "actor.id", MAX_TEXT_LENGTH, false);
    optionalText(e.subjectId(), "subject_id", MAX_TEXT_LENGTH);
    List<String> elements = e.elements();
    if (elements == null) {
      throw new InvalidEventException("elements", "wrong_type", "must be a list of element codes");
    }
    if (elements.isEmpty()) {
      throw new InvalidEventException("elements", "empty", "must be a non-empty list of element codes");
    }
    if (elements.size() > MAX_ELEMENTS) {
      throw new InvalidEventException(
          "elements", "too_many", "has " + elements.size() + " entries; at most " + MAX_ELEMENTS);
    }
    for (int i = 0; i < elements.size(); i++) {
      text(elements.get(i), "elements[" + i + "]", MAX_CODE_LENGTH, false);
    }
    optionalText(e.purpose(), "purpose", MAX_CODE_LENGTH);
    symbol(e.operation(), "operation", OPERATIONS);
    symbol(e.processing(), "processing", PROCESSING);
    symbol(e.destinationKind(), "destination.kind", DESTINATION_KINDS);
    optionalText(e.destinationName(), "destination.name", MAX_TEXT_LENGTH);
    optionalText(e.originService(), "origin_service", MAX_CODE_LENGTH);
    if (e.recordCount() < 0 || e.recordCount() > MAX_RECORD_COUNT) {
      throw new InvalidEventException(
          "record_count", "out_of_range", "must be an integer from 0 to " + MAX_RECORD_COUNT);
    }
    optionalText(e.traceId(), "trace_id", MAX_TEXT_LENGTH);
    Map<String, String> attributes = e.attributes();
    if (attributes.size() > MAX_ATTRIBUTES) {
      throw new InvalidEventException(
          "attributes", "too_many", "has " + attributes.size() + " entries; at most " + MAX_ATTRIBUTES);
    }
    for (Map.Entry<String, String> entry : Codec.inOrder(attributes).entrySet()) {
      text(entry.getKey(), "attributes (key)", MAX_CODE_LENGTH, false);
      text(entry.getValue(), "attributes." + entry.getKey(), MAX_TEXT_LENGTH, true);
    }
  }

  static void check(ConsentRecord c) {
    text(c.subjectId(), "subject_id", MAX_TEXT_LENGTH, false);
  }

  private static void text(String value, String field, int limit, boolean emptyAllowed) {
    if (value == null) {
      throw new InvalidEventException(field, "wrong_type", "must be a string, got null");
    }
    if (!emptyAllowed && isBlank(value)) {
      throw new InvalidEventException(field, "empty", "must not be empty");
    }
    int length = value.codePointCount(0, value.length());
    if (length > limit) {
      throw new InvalidEventException(
          field, "too_long", "is " + length + " characters long; at most " + limit + " allowed");
    }
  }

  private static void optionalText(String value, String field, int limit) {
    if (value != null) {
      text(value, field, limit, false);
    }
  }

  private static void symbol(String value, String field, List<String> symbols) {
    if (value == null || !symbols.contains(value)) {
      throw new InvalidEventException(
          field, "not_symbol", "'" + value + "' is not one of " + String.join(", ", symbols));
    }
  }

  /** What Python's {@code uuid.UUID(text)} takes: 32 hex digits, hyphens, braces, urn prefix. */
  static boolean isUuid(String text) {
    String hex = text.replace("urn:", "").replace("uuid:", "");
    while (hex.startsWith("{")) {
      hex = hex.substring(1);
    }
    while (hex.endsWith("}")) {
      hex = hex.substring(0, hex.length() - 1);
    }
    hex = hex.replace("-", "");
    return hex.length() == 32 && hex.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 128);
  }
}

package dua.producer;

import java.util.List;
import java.util.Map;

/** A DataAccessEvent in the record form: every field, defaults applied (what is validated and encoded). */
record EventRecord(
    String eventId,
    long occurredAtMillis,
    String service,
    String actorKind,
    String actorId,
    String subjectId,
    List<String> elements,
    String purpose,
    String operation,
    String processing,
    String destinationKind,
    String destinationName,
    String originService,
    boolean targetingOptOut,
    boolean publicationConsent,
    boolean payrollOtherUseConsent,
    long recordCount,
    String traceId,
    Map<String, String> attributes) {}

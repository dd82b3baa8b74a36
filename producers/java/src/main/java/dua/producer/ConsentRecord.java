package dua.producer;

/** A ConsentChange in the record form. */
record ConsentRecord(
    String subjectId,
    long occurredAtMillis,
    boolean targetingOptOut,
    boolean publicationConsent,
    boolean payrollOtherUseConsent,
    boolean thirdPartyLinkConsent) {}

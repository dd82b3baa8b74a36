-- APPI third-party provision records (issue #24): every access the processor judged to provide
-- personal data to a third party (TaggedAccessEvent v2 `provision`), kept three years whatever
-- the audit tables' retention (`retention_days`): APPI Art. 29 and 31 with their Rules
-- (Art. 20 to 22, Art. 28) ask for records of what was provided, to whom, about whom and on
-- which basis, kept three years.
--
-- The decision travels on the tagged event into access_events (columns below, false/empty for
-- rows written before this version, which had no decision), and a materialized view copies the
-- provisions into appi_provisions as rows arrive, so the record is made at ingest and outlives
-- the access_events row it came from. A replayed sink batch carries its insert deduplication
-- token into the view as into 002's, so a replay records nothing twice; ReplacingMergeTree on
-- the event id folds an access the processor emitted twice (read it with FINAL).
ALTER TABLE ${database}.access_events
    ADD COLUMN IF NOT EXISTS provision_third_party Bool DEFAULT false AFTER violation_modes,
    ADD COLUMN IF NOT EXISTS provision_recipient_registered Bool DEFAULT false AFTER provision_third_party,
    ADD COLUMN IF NOT EXISTS provision_recipient_address String DEFAULT '' AFTER provision_recipient_registered,
    ADD COLUMN IF NOT EXISTS provision_recipient_representative String DEFAULT '' AFTER provision_recipient_address,
    ADD COLUMN IF NOT EXISTS provision_basis LowCardinality(String) DEFAULT '' AFTER provision_recipient_representative,
    ADD COLUMN IF NOT EXISTS provision_linkable Bool DEFAULT false AFTER provision_basis,
    ADD COLUMN IF NOT EXISTS provision_link_consent Bool DEFAULT false AFTER provision_linkable;

CREATE TABLE IF NOT EXISTS ${database}.appi_provisions
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    policy_version LowCardinality(String),
    service LowCardinality(String),
    purpose LowCardinality(String),
    -- the person: the pseudonym, never a raw id
    subject_id String,
    -- the items provided: element codes and their data categories
    elements Array(LowCardinality(String)),
    element_categories Array(LowCardinality(String)),
    recipient_kind LowCardinality(String),
    recipient_name String,
    recipient_registered Bool,
    recipient_address String,
    recipient_representative String,
    -- consent (the person consented) or opt_out (opt-out provision: the date is occurred_at)
    basis LowCardinality(String),
    -- APPI Art. 31: informative data to a recipient that can link it to the person, and
    -- whether the person's consent to that was confirmed in force at occurred_at
    linkable Bool,
    link_consent Bool,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX subject_idx subject_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toStartOfDay(occurred_at), recipient_kind, recipient_name, event_id)
-- three years (1,096 days covers a leap day), on purpose not `retention_days`
TTL toDateTime(occurred_at) + INTERVAL 1096 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.appi_provisions_mv TO ${database}.appi_provisions AS
SELECT
    event_id,
    occurred_at,
    policy_version,
    service,
    purpose,
    subject_id,
    elements,
    element_categories,
    destination_kind AS recipient_kind,
    destination_name AS recipient_name,
    provision_recipient_registered AS recipient_registered,
    provision_recipient_address AS recipient_address,
    provision_recipient_representative AS recipient_representative,
    provision_basis AS basis,
    provision_linkable AS linkable,
    provision_link_consent AS link_consent
FROM ${database}.access_events
WHERE provision_third_party;

/** The records the SDK writes, in the Avro field names of the contracts. */

/** A DataAccessEvent v1 as it is encoded (`occurred_at` in epoch milliseconds). */
export interface AccessRecord {
  event_id: string;
  occurred_at: number;
  service: string;
  actor: { kind: string; id: string };
  subject_id: string | null;
  elements: string[];
  purpose: string | null;
  operation: string;
  processing: string;
  destination: { kind: string; name: string | null };
  origin_service: string | null;
  consent: { targeting_opt_out: boolean; publication_consent: boolean; payroll_other_use_consent: boolean };
  record_count: number;
  trace_id: string | null;
  attributes: Record<string, string>;
}

/** A ConsentChange v2: a subject's complete current consent choices. */
export interface ConsentRecord {
  subject_id: string;
  occurred_at: number;
  targeting_opt_out: boolean;
  publication_consent: boolean;
  payroll_other_use_consent: boolean;
  third_party_link_consent: boolean;
}

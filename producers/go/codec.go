package dua

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The wire format: Avro single-object encoding (C3 01, the CRC-64-AVRO fingerprint
// little-endian, the body) or Confluent framing (00, a 4-byte big-endian schema id, the body).
// The body is written by hand for the two fixed records the SDK sends; map entries are sorted
// by the UTF-8 bytes of their keys (Go's string order), as every dua SDK writes them.

// The pinned fingerprints of the conformance suite's schemas section; a test checks that the
// canonical forms of the embedded schemas give them.
const (
	dataAccessEventFingerprint uint64 = 3709194380617373610
	consentChangeFingerprint   uint64 = 2426751406114570129
)

var (
	actorKinds       = []string{"SERVICE", "EMPLOYEE", "USER", "PARTNER", "BATCH_JOB"}
	operations       = []string{"READ", "WRITE", "DELETE", "EXPORT", "SHARE", "JOIN"}
	processings      = []string{"RAW", "PSEUDONYMIZED", "STATISTICAL"}
	destinationKinds = []string{"INTERNAL", "GROUP_SERVICE", "CLIENT", "AD_PLATFORM", "EMPLOYER", "PUBLIC", "FINANCIAL_INSTITUTION"}
)

// eventRecord is one DataAccessEvent as written; nil pointers are Avro nulls.
type eventRecord struct {
	EventID                string
	OccurredAtMillis       int64
	Service                string
	ActorKind              string
	ActorID                string
	SubjectID              *string
	Elements               []string
	Purpose                *string
	Operation              string
	Processing             string
	DestinationKind        string
	DestinationName        *string
	OriginService          *string
	TargetingOptOut        bool
	PublicationConsent     bool
	PayrollOtherUseConsent bool
	RecordCount            int64
	TraceID                *string
	Attributes             map[string]string
}

// consentRecord is one ConsentChange as written.
type consentRecord struct {
	SubjectID              string
	OccurredAtMillis       int64
	TargetingOptOut        bool
	PublicationConsent     bool
	PayrollOtherUseConsent bool
	ThirdPartyLinkConsent  bool
}

func singleObjectHeader(fingerprint uint64) []byte {
	h := make([]byte, 10)
	h[0], h[1] = 0xC3, 0x01
	binary.LittleEndian.PutUint64(h[2:], fingerprint)
	return h
}

func confluentHeader(schemaID uint32) []byte {
	h := make([]byte, 5)
	binary.BigEndian.PutUint32(h[1:], schemaID)
	return h
}

func appendLong(b []byte, v int64) []byte {
	return binary.AppendUvarint(b, uint64((v<<1)^(v>>63)))
}

func appendString(b []byte, s string) []byte {
	b = appendLong(b, int64(len(s)))
	return append(b, s...)
}

func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	return appendString(append(b, 2), *s)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendEnum(b []byte, symbols []string, v string) []byte {
	for i, s := range symbols {
		if s == v {
			return appendLong(b, int64(i))
		}
	}
	panic(fmt.Sprintf("dua: %q is not a symbol; validate before encoding", v))
}

// sortedKeys returns the keys of m in UTF-8 byte order (code-point order).
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendEvent appends the Avro body of e; e must have passed validation (enums are symbols).
func appendEvent(b []byte, e *eventRecord) []byte {
	b = appendString(b, e.EventID)
	b = appendLong(b, e.OccurredAtMillis)
	b = appendString(b, e.Service)
	b = appendEnum(b, actorKinds, e.ActorKind)
	b = appendString(b, e.ActorID)
	b = appendOptional(b, e.SubjectID)
	if len(e.Elements) > 0 {
		b = appendLong(b, int64(len(e.Elements)))
		for _, el := range e.Elements {
			b = appendString(b, el)
		}
	}
	b = append(b, 0)
	b = appendOptional(b, e.Purpose)
	b = appendEnum(b, operations, e.Operation)
	b = appendEnum(b, processings, e.Processing)
	b = appendEnum(b, destinationKinds, e.DestinationKind)
	b = appendOptional(b, e.DestinationName)
	b = appendOptional(b, e.OriginService)
	b = appendBool(b, e.TargetingOptOut)
	b = appendBool(b, e.PublicationConsent)
	b = appendBool(b, e.PayrollOtherUseConsent)
	b = appendLong(b, e.RecordCount)
	b = appendOptional(b, e.TraceID)
	if len(e.Attributes) > 0 {
		b = appendLong(b, int64(len(e.Attributes)))
		for _, k := range sortedKeys(e.Attributes) {
			b = appendString(b, k)
			b = appendString(b, e.Attributes[k])
		}
	}
	return append(b, 0)
}

func appendConsent(b []byte, c *consentRecord) []byte {
	b = appendString(b, c.SubjectID)
	b = appendLong(b, c.OccurredAtMillis)
	b = appendBool(b, c.TargetingOptOut)
	b = appendBool(b, c.PublicationConsent)
	b = appendBool(b, c.PayrollOtherUseConsent)
	return appendBool(b, c.ThirdPartyLinkConsent)
}

// DecodeError is a message that could not be decoded; Reason is the suite's error kind
// (empty_payload, unknown_framing, truncated, unknown_fingerprint, trailing_bytes,
// corrupt_body, no_registry).
type DecodeError struct {
	Reason string
	Detail string
}

func (e *DecodeError) Error() string { return "dua: " + e.Reason + ": " + e.Detail }

var errTruncated = errors.New("body ends early")

// reader reads Avro primitives from a body.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) long() (int64, error) {
	u, n := binary.Uvarint(r.b[r.pos:])
	if n == 0 {
		return 0, errTruncated
	}
	if n < 0 {
		return 0, errors.New("varint overflows 64 bits")
	}
	r.pos += n
	return int64(u>>1) ^ -int64(u&1), nil
}

func (r *reader) str() (string, error) {
	n, err := r.long()
	if err != nil {
		return "", err
	}
	if n < 0 {
		return "", fmt.Errorf("negative string length %d", n)
	}
	if int64(len(r.b)-r.pos) < n {
		return "", errTruncated
	}
	s := string(r.b[r.pos : r.pos+int(n)])
	r.pos += int(n)
	return s, nil
}

func (r *reader) boolean() (bool, error) {
	if r.pos >= len(r.b) {
		return false, errTruncated
	}
	v := r.b[r.pos]
	r.pos++
	if v > 1 {
		return false, fmt.Errorf("boolean byte %d", v)
	}
	return v == 1, nil
}

func (r *reader) enum(symbols []string) (string, error) {
	i, err := r.long()
	if err != nil {
		return "", err
	}
	if i < 0 || i >= int64(len(symbols)) {
		return "", fmt.Errorf("enum index %d out of range", i)
	}
	return symbols[i], nil
}

func (r *reader) optional() (any, error) {
	branch, err := r.long()
	if err != nil {
		return nil, err
	}
	switch branch {
	case 0:
		return nil, nil
	case 1:
		return r.str()
	}
	return nil, fmt.Errorf("union branch %d out of range", branch)
}

// blocks reads an Avro array or map: item is called once per entry.
func (r *reader) blocks(item func() error) error {
	for {
		n, err := r.long()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			n = -n
			if _, err := r.long(); err != nil { // block size in bytes
				return err
			}
		}
		for ; n > 0; n-- {
			if err := item(); err != nil {
				return err
			}
		}
	}
}

// decode reads a single-object message of a record this SDK writes, as plain Go values
// (strings, int64, bool, []any, map[string]any); for tests and tools.
func decode(payload []byte) (map[string]any, error) {
	if len(payload) == 0 {
		return nil, &DecodeError{"empty_payload", "the message has no bytes"}
	}
	if payload[0] == 0 {
		if len(payload) < 5 {
			return nil, &DecodeError{"truncated", "Confluent header is shorter than 5 bytes"}
		}
		return nil, &DecodeError{"no_registry", "message framed for a schema-registry id"}
	}
	if len(payload) < 2 || payload[0] != 0xC3 || payload[1] != 0x01 {
		return nil, &DecodeError{"unknown_framing", "expected c301 or 00"}
	}
	if len(payload) < 10 {
		return nil, &DecodeError{"truncated", "single-object header is shorter than 10 bytes"}
	}
	r := &reader{b: payload[10:]}
	var out map[string]any
	var err error
	switch binary.LittleEndian.Uint64(payload[2:10]) {
	case dataAccessEventFingerprint:
		out, err = r.event()
	case consentChangeFingerprint:
		out, err = r.consent()
	default:
		return nil, &DecodeError{"unknown_fingerprint", "no released schema has this fingerprint"}
	}
	if errors.Is(err, errTruncated) {
		return nil, &DecodeError{"truncated", err.Error()}
	}
	if err != nil {
		return nil, &DecodeError{"corrupt_body", err.Error()}
	}
	if r.pos != len(r.b) {
		return nil, &DecodeError{"trailing_bytes", fmt.Sprintf("%d bytes after the body", len(r.b)-r.pos)}
	}
	return out, nil
}

// fields reads values in order into out; the first error stops.
type field struct {
	name string
	read func() (any, error)
}

func readFields(out map[string]any, fs []field) error {
	for _, f := range fs {
		v, err := f.read()
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		out[f.name] = v
	}
	return nil
}

func (r *reader) strAny() (any, error)  { return r.str() }
func (r *reader) longAny() (any, error) { return r.long() }
func (r *reader) boolAny() (any, error) { return r.boolean() }
func (r *reader) enumAny(symbols []string) func() (any, error) {
	return func() (any, error) { return r.enum(symbols) }
}

func (r *reader) event() (map[string]any, error) {
	out := map[string]any{}
	actor := map[string]any{}
	destination := map[string]any{}
	consent := map[string]any{}
	err := readFields(out, []field{
		{"event_id", r.strAny},
		{"occurred_at", r.longAny},
		{"service", r.strAny},
		{"actor", func() (any, error) {
			return actor, readFields(actor, []field{{"kind", r.enumAny(actorKinds)}, {"id", r.strAny}})
		}},
		{"subject_id", r.optional},
		{"elements", func() (any, error) {
			elements := []any{}
			err := r.blocks(func() error {
				s, err := r.str()
				elements = append(elements, s)
				return err
			})
			return elements, err
		}},
		{"purpose", r.optional},
		{"operation", r.enumAny(operations)},
		{"processing", r.enumAny(processings)},
		{"destination", func() (any, error) {
			return destination, readFields(destination, []field{
				{"kind", r.enumAny(destinationKinds)}, {"name", r.optional}})
		}},
		{"origin_service", r.optional},
		{"consent", func() (any, error) {
			return consent, readFields(consent, []field{
				{"targeting_opt_out", r.boolAny},
				{"publication_consent", r.boolAny},
				{"payroll_other_use_consent", r.boolAny}})
		}},
		{"record_count", func() (any, error) {
			n, err := r.long()
			if err == nil && (n < -1<<31 || n > 1<<31-1) {
				err = fmt.Errorf("int %d out of range", n)
			}
			return n, err
		}},
		{"trace_id", r.optional},
		{"attributes", func() (any, error) {
			attributes := map[string]any{}
			err := r.blocks(func() error {
				k, err := r.str()
				if err != nil {
					return err
				}
				v, err := r.str()
				attributes[k] = v
				return err
			})
			return attributes, err
		}},
	})
	return out, err
}

func (r *reader) consent() (map[string]any, error) {
	out := map[string]any{}
	err := readFields(out, []field{
		{"subject_id", r.strAny},
		{"occurred_at", r.longAny},
		{"targeting_opt_out", r.boolAny},
		{"publication_consent", r.boolAny},
		{"payroll_other_use_consent", r.boolAny},
		{"third_party_link_consent", r.boolAny},
	})
	return out, err
}

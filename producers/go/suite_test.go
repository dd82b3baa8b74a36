package dua

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The conformance suite (producers/conformance/suite) and its JSON form of events.

const suiteDir = "../conformance/suite"

// loadSection reads one section of the suite into out, checking its spec_version.
func loadSection(t *testing.T, name string, out any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(suiteDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		SpecVersion int `json:"spec_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatal(err)
	}
	if head.SpecVersion != 1 {
		t.Fatalf("%s: this runner knows spec_version 1, got %d", name, head.SpecVersion)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unquoteWTF8 reads a JSON string literal keeping a lone surrogate as its 3-byte
// (invalid UTF-8) form, where encoding/json would put U+FFFD: the Go form of a string that
// is not Unicode text.
func unquoteWTF8(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	s := string(raw[1 : len(raw)-1])
	var out []byte
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			out = append(out, s[i])
			i++
			continue
		}
		if s[i+1] != 'u' {
			var r string
			if err := json.Unmarshal([]byte(`"`+s[i:i+2]+`"`), &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r...)
			i += 2
			continue
		}
		u, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil {
			t.Fatal(err)
		}
		i += 6
		r := rune(u)
		if utf16.IsSurrogate(r) && r < 0xDC00 && i+6 <= len(s) && s[i:i+2] == `\u` {
			if low, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil && low >= 0xDC00 && low < 0xE000 {
				out = utf8.AppendRune(out, utf16.DecodeRune(r, rune(low)))
				i += 6
				continue
			}
		}
		if utf16.IsSurrogate(r) {
			out = append(out, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// jsonEvent is the JSON form of a DataAccessEvent; absent optional fields stay nil.
type jsonEvent struct {
	EventID    *string         `json:"event_id"`
	OccurredAt json.RawMessage `json:"occurred_at"`
	Service    *string         `json:"service"`
	Actor      struct {
		Kind *string `json:"kind"`
		ID   *string `json:"id"`
	} `json:"actor"`
	SubjectID   *string  `json:"subject_id"`
	Elements    []string `json:"elements"`
	Purpose     *string  `json:"purpose"`
	Operation   *string  `json:"operation"`
	Processing  *string  `json:"processing"`
	Destination struct {
		Kind *string `json:"kind"`
		Name *string `json:"name"`
	} `json:"destination"`
	OriginService *string `json:"origin_service"`
	Consent       struct {
		TargetingOptOut        bool `json:"targeting_opt_out"`
		PublicationConsent     bool `json:"publication_consent"`
		PayrollOtherUseConsent bool `json:"payroll_other_use_consent"`
	} `json:"consent"`
	RecordCount *int64            `json:"record_count"`
	TraceID     *string           `json:"trace_id"`
	Attributes  map[string]string `json:"attributes"`
}

// jsonConsent is the JSON form of a ConsentChange.
type jsonConsent struct {
	SubjectID              string          `json:"subject_id"`
	OccurredAt             json.RawMessage `json:"occurred_at"`
	TargetingOptOut        bool            `json:"targeting_opt_out"`
	PublicationConsent     bool            `json:"publication_consent"`
	PayrollOtherUseConsent bool            `json:"payroll_other_use_consent"`
	ThirdPartyLinkConsent  bool            `json:"third_party_link_consent"`
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// suiteMillis reads a time of the JSON form: milliseconds or RFC 3339 text.
func suiteMillis(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var ms int64
	if json.Unmarshal(raw, &ms) == nil {
		return ms
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		t.Fatal(err)
	}
	return at.UnixMilli()
}

func (j *jsonEvent) record(t *testing.T) *eventRecord {
	recordCount := int64(1)
	if j.RecordCount != nil {
		recordCount = *j.RecordCount
	}
	return &eventRecord{
		EventID:                deref(j.EventID, ""),
		OccurredAtMillis:       suiteMillis(t, j.OccurredAt),
		Service:                deref(j.Service, ""),
		ActorKind:              deref(j.Actor.Kind, ""),
		ActorID:                deref(j.Actor.ID, ""),
		SubjectID:              j.SubjectID,
		Elements:               j.Elements,
		Purpose:                j.Purpose,
		Operation:              deref(j.Operation, "READ"),
		Processing:             deref(j.Processing, "RAW"),
		DestinationKind:        deref(j.Destination.Kind, "INTERNAL"),
		DestinationName:        j.Destination.Name,
		OriginService:          j.OriginService,
		TargetingOptOut:        j.Consent.TargetingOptOut,
		PublicationConsent:     j.Consent.PublicationConsent,
		PayrollOtherUseConsent: j.Consent.PayrollOtherUseConsent,
		RecordCount:            recordCount,
		TraceID:                j.TraceID,
		Attributes:             j.Attributes,
	}
}

func (j *jsonConsent) record(t *testing.T) *consentRecord {
	return &consentRecord{
		SubjectID:              j.SubjectID,
		OccurredAtMillis:       suiteMillis(t, j.OccurredAt),
		TargetingOptOut:        j.TargetingOptOut,
		PublicationConsent:     j.PublicationConsent,
		PayrollOtherUseConsent: j.PayrollOtherUseConsent,
		ThirdPartyLinkConsent:  j.ThirdPartyLinkConsent,
	}
}

// parseUUID reads a UUID's text into the [16]byte form Go UUID types share.
func parseUUID(t *testing.T, text string) [16]byte {
	t.Helper()
	var u [16]byte
	b, err := hex.DecodeString(strings.ReplaceAll(text, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("bad UUID %q", text)
	}
	copy(u[:], b)
	return u
}

// parseInt reads a decimal integer as int64, or as *big.Int when outside it.
func parseInt(t *testing.T, text string) any {
	t.Helper()
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n
	}
	big, ok := new(big.Int).SetString(text, 10)
	if !ok {
		t.Fatalf("bad integer %q", text)
	}
	return big
}

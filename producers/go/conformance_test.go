package dua

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// The Go SDK against every case of the conformance suite (producers/conformance/suite).

// TestConformanceSchemas checks that the embedded schemas are the contract's, that Avro's
// canonical form (hamba's, with the timestamp-millis it wrongly keeps reduced to "long") and CRC-64-AVRO give the
// pinned fingerprints, and that the SDK's constants are those.
func TestConformanceSchemas(t *testing.T) {
	var suite struct {
		Cases []struct {
			Record          string `json:"record"`
			Latest          bool   `json:"latest"`
			Avsc            string `json:"avsc"`
			CanonicalForm   string `json:"canonical_form"`
			FingerprintHex  string `json:"fingerprint_hex"`
			FingerprintInt6 int64  `json:"fingerprint_int64"`
		} `json:"cases"`
	}
	loadSection(t, "schemas", &suite)
	constants := map[string]uint64{"DataAccessEvent": dataAccessEventFingerprint, "ConsentChange": consentChangeFingerprint}
	for _, c := range suite.Cases {
		if !c.Latest {
			continue // an older version: the SDK writes the newest one only
		}
		t.Run(c.Record, func(t *testing.T) {
			original, err := os.ReadFile("../../" + c.Avsc)
			if err != nil {
				t.Fatal(err)
			}
			if schemaText(c.Record) != string(original) {
				t.Fatalf("avro/%s/%s.avsc differs from %s: copy it again", c.Record, schemaVersions[c.Record], c.Avsc)
			}
			schema, err := avro.ParseBytes(original)
			if err != nil {
				t.Fatal(err)
			}
			canonical := strings.ReplaceAll(schema.String(), `{"type":"long","logicalType":"timestamp-millis"}`, `"long"`)
			if canonical != c.CanonicalForm {
				t.Fatalf("canonical form\n got %s\nwant %s", canonical, c.CanonicalForm)
			}
			parsed, err := avro.Parse(canonical)
			if err != nil {
				t.Fatal(err)
			}
			fp, err := parsed.FingerprintUsing(avro.CRC64Avro)
			if err != nil {
				t.Fatal(err)
			}
			if got := int64(binary.BigEndian.Uint64(fp)); got != c.FingerprintInt6 {
				t.Fatalf("CRC-64-AVRO %d, pinned %d", got, c.FingerprintInt6)
			}
			constant := constants[c.Record]
			if int64(constant) != c.FingerprintInt6 {
				t.Fatalf("SDK constant %d, pinned %d", int64(constant), c.FingerprintInt6)
			}
			if got := hex.EncodeToString(singleObjectHeader(constant)[2:]); got != c.FingerprintHex {
				t.Fatalf("header fingerprint %s, pinned %s", got, c.FingerprintHex)
			}
		})
	}
}

// TestConformanceEncode checks that the JSON inputs encode to the pinned single-object and
// Confluent-framed bytes.
func TestConformanceEncode(t *testing.T) {
	var suite struct {
		SchemaID uint32 `json:"confluent_schema_id"`
		Cases    []struct {
			Name            string          `json:"name"`
			Record          string          `json:"record"`
			Valid           *bool           `json:"valid"`
			Input           json.RawMessage `json:"input"`
			SingleObjectHex string          `json:"single_object_hex"`
			ConfluentHex    string          `json:"confluent_hex"`
		} `json:"cases"`
	}
	loadSection(t, "encode", &suite)
	for _, c := range suite.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var body []byte
			var fingerprint uint64
			if c.Record == "ConsentChange" {
				var j jsonConsent
				if err := json.Unmarshal(c.Input, &j); err != nil {
					t.Fatal(err)
				}
				r := j.record(t)
				if err := checkConsent(r); err != nil {
					t.Fatal(err)
				}
				body, fingerprint = appendConsent(nil, r), consentChangeFingerprint
			} else {
				var j jsonEvent
				if err := json.Unmarshal(c.Input, &j); err != nil {
					t.Fatal(err)
				}
				r := j.record(t)
				err := checkEvent(r)
				if valid := c.Valid == nil || *c.Valid; valid && err != nil {
					t.Fatal(err)
				} else if !valid && err == nil {
					t.Fatal("validation passed an event the suite marks invalid")
				}
				body, fingerprint = appendEvent(nil, r), dataAccessEventFingerprint
			}
			if got := hex.EncodeToString(append(singleObjectHeader(fingerprint), body...)); got != c.SingleObjectHex {
				t.Errorf("single-object\n got %s\nwant %s", got, c.SingleObjectHex)
			}
			if got := hex.EncodeToString(append(confluentHeader(suite.SchemaID), body...)); got != c.ConfluentHex {
				t.Errorf("Confluent\n got %s\nwant %s", got, c.ConfluentHex)
			}
		})
	}
}

// plain turns decoded or JSON values into one comparable form (numbers as int64).
func plain(t *testing.T, v any) any {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = plain(t, e)
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			out = append(out, plain(t, e))
		}
		return out
	}
	return v
}

// TestConformanceDecode checks that bytes decode to the pinned record, or fail with the
// pinned error kind.
func TestConformanceDecode(t *testing.T) {
	var suite struct {
		Cases []struct {
			Name  string          `json:"name"`
			Hex   string          `json:"hex"`
			JSON  json.RawMessage `json:"json"`
			Error string          `json:"error"`
		} `json:"cases"`
	}
	loadSection(t, "decode", &suite)
	for _, c := range suite.Cases {
		t.Run(c.Name, func(t *testing.T) {
			decoded, err := decode(unhex(t, c.Hex))
			if c.Error != "" {
				var de *DecodeError
				if !errors.As(err, &de) || de.Reason != c.Error {
					t.Fatalf("got %v, want a DecodeError %q", err, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(string(c.JSON)))
			dec.UseNumber()
			var expected map[string]any
			if err := dec.Decode(&expected); err != nil {
				t.Fatal(err)
			}
			var at struct {
				OccurredAt json.RawMessage `json:"occurred_at"`
			}
			if err := json.Unmarshal(c.JSON, &at); err != nil {
				t.Fatal(err)
			}
			expected["occurred_at"] = suiteMillis(t, at.OccurredAt)
			if got, want := plain(t, decoded), plain(t, expected); !reflect.DeepEqual(got, want) {
				t.Fatalf("\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestConformancePseudonym checks that key and raw id give the pinned pseudonym, or the
// pinned error code on field subject.
func TestConformancePseudonym(t *testing.T) {
	var suite struct {
		Cases []struct {
			Name  string `json:"name"`
			Key   string `json:"key"`
			Input struct {
				String json.RawMessage `json:"string"`
				Int    string          `json:"int"`
				UUID   string          `json:"uuid"`
			} `json:"input"`
			Pseudonym string `json:"pseudonym"`
			Error     string `json:"error"`
		} `json:"cases"`
	}
	loadSection(t, "pseudonym", &suite)
	for _, c := range suite.Cases {
		t.Run(c.Name+"/"+c.Key, func(t *testing.T) {
			var raw any
			switch {
			case c.Input.String != nil:
				raw = unquoteWTF8(t, c.Input.String)
			case c.Input.UUID != "":
				raw = parseUUID(t, c.Input.UUID)
			default:
				raw = parseInt(t, c.Input.Int)
			}
			got, err := pseudonyms{key: []byte(c.Key)}.pseudonym(raw)
			if c.Error == "" {
				if err != nil || got != c.Pseudonym {
					t.Fatalf("got %q, %v; want %s", got, err, c.Pseudonym)
				}
				return
			}
			var ie *InvalidEventError
			if !errors.As(err, &ie) || ie.Field != "subject" || ie.Code != c.Error {
				t.Fatalf("got %v; want subject/%s", err, c.Error)
			}
		})
	}
}

// TestConformanceValidate checks that valid inputs pass and the others fail naming the
// pinned field and code.
func TestConformanceValidate(t *testing.T) {
	var suite struct {
		Cases []struct {
			Name  string    `json:"name"`
			Input jsonEvent `json:"input"`
			Error *struct {
				Field string `json:"field"`
				Code  string `json:"code"`
			} `json:"error"`
		} `json:"cases"`
	}
	loadSection(t, "validate", &suite)
	for _, c := range suite.Cases {
		t.Run(c.Name, func(t *testing.T) {
			err := checkEvent(c.Input.record(t))
			if c.Error == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Field+"/"+err.Code != c.Error.Field+"/"+c.Error.Code {
				t.Fatalf("got %v; want %s/%s", err, c.Error.Field, c.Error.Code)
			}
		})
	}
}

type suiteSpoolRecord struct {
	Topic    string `json:"topic"`
	KeyHex   string `json:"key_hex"`
	ValueHex string `json:"value_hex"`
	End      int64  `json:"end"`
}

// TestConformanceSpool checks that records frame to the pinned segment bytes and that
// segments scan to their intact records, stopping where, and for the reason, pinned.
func TestConformanceSpool(t *testing.T) {
	var suite struct {
		Write []struct {
			Name       string             `json:"name"`
			Records    []suiteSpoolRecord `json:"records"`
			SegmentHex string             `json:"segment_hex"`
		} `json:"write"`
		Read []struct {
			Name       string             `json:"name"`
			SegmentHex string             `json:"segment_hex"`
			Start      int64              `json:"start"`
			Records    []suiteSpoolRecord `json:"records"`
			Stop       struct {
				Offset int64   `json:"offset"`
				Clean  bool    `json:"clean"`
				Reason *string `json:"reason"`
			} `json:"stop"`
		} `json:"read"`
	}
	loadSection(t, "spool", &suite)
	for _, c := range suite.Write {
		t.Run("write/"+c.Name, func(t *testing.T) {
			var segment []byte
			for _, r := range c.Records {
				segment = appendSpoolRecord(segment, r.Topic, unhex(t, r.KeyHex), unhex(t, r.ValueHex))
			}
			if got := hex.EncodeToString(segment); got != c.SegmentHex {
				t.Fatalf("\n got %s\nwant %s", got, c.SegmentHex)
			}
		})
	}
	for _, c := range suite.Read {
		t.Run("read/"+c.Name, func(t *testing.T) {
			records, end := scanSegment(unhex(t, c.SegmentHex), c.Start)
			if len(records) != len(c.Records) {
				t.Fatalf("%d records, want %d", len(records), len(c.Records))
			}
			for i, want := range c.Records {
				got := records[i]
				if got.Topic != want.Topic || hex.EncodeToString(got.Key) != want.KeyHex ||
					hex.EncodeToString(got.Value) != want.ValueHex || got.End != want.End {
					t.Fatalf("record %d: %+v, want %+v", i, got, want)
				}
			}
			want := scanEnd{c.Stop.Offset, c.Stop.Clean, deref(c.Stop.Reason, "")}
			if end != want {
				t.Fatalf("stop %+v, want %+v", end, want)
			}
		})
	}
}

package dua

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The contract's checks beyond Avro types, in the order and with the codes of every dua SDK
// (producers/conformance/README.md): the first problem found is reported.
const (
	maxElements    = 256
	maxCodeLength  = 128
	maxTextLength  = 512
	maxAttributes  = 32
	maxRecordCount = 1<<31 - 1
)

// InvalidEventError names the first field of an event that breaks the contract, with the
// code every dua SDK uses (empty, too_long, too_many, not_uuid, not_symbol, out_of_range,
// wrong_type, invalid_unicode).
type InvalidEventError struct {
	Field  string
	Code   string
	Detail string
}

func (e *InvalidEventError) Error() string {
	return fmt.Sprintf("dua: invalid event: %s: %s (%s)", e.Field, e.Detail, e.Code)
}

func invalid(field, code, format string, args ...any) *InvalidEventError {
	return &InvalidEventError{Field: field, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// isWhiteSpace is the Unicode White_Space property (not U+FEFF, not U+001C..001F, unlike
// unicode.IsSpace and strings.TrimSpace).
func isWhiteSpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r == 0x20, r == 0x85, r == 0xA0, r == 0x1680,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// isBlank reports whether s is empty or only White_Space.
func isBlank(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !isWhiteSpace(r) }) < 0
}

func checkEvent(e *eventRecord) *InvalidEventError {
	if err := text(e.EventID, "event_id", maxTextLength, false); err != nil {
		return err
	}
	if !isUUID(e.EventID) {
		return invalid("event_id", "not_uuid", "is not a UUID")
	}
	if err := text(e.Service, "service", maxCodeLength, false); err != nil {
		return err
	}
	if err := symbol(e.ActorKind, "actor.kind", actorKinds); err != nil {
		return err
	}
	if err := text(e.ActorID, "actor.id", maxTextLength, false); err != nil {
		return err
	}
	if err := optionalText(e.SubjectID, "subject_id", maxTextLength); err != nil {
		return err
	}
	if len(e.Elements) == 0 {
		return invalid("elements", "empty", "must be a non-empty list of element codes")
	}
	if len(e.Elements) > maxElements {
		return invalid("elements", "too_many", "has %d entries; at most %d", len(e.Elements), maxElements)
	}
	for i, el := range e.Elements {
		if err := text(el, fmt.Sprintf("elements[%d]", i), maxCodeLength, false); err != nil {
			return err
		}
	}
	if err := optionalText(e.Purpose, "purpose", maxCodeLength); err != nil {
		return err
	}
	if err := symbol(e.Operation, "operation", operations); err != nil {
		return err
	}
	if err := symbol(e.Processing, "processing", processings); err != nil {
		return err
	}
	if err := symbol(e.DestinationKind, "destination.kind", destinationKinds); err != nil {
		return err
	}
	if err := optionalText(e.DestinationName, "destination.name", maxTextLength); err != nil {
		return err
	}
	if err := optionalText(e.OriginService, "origin_service", maxCodeLength); err != nil {
		return err
	}
	if e.RecordCount < 0 || e.RecordCount > maxRecordCount {
		return invalid("record_count", "out_of_range", "must be an integer from 0 to %d", maxRecordCount)
	}
	if err := optionalText(e.TraceID, "trace_id", maxTextLength); err != nil {
		return err
	}
	if len(e.Attributes) > maxAttributes {
		return invalid("attributes", "too_many", "has %d entries; at most %d", len(e.Attributes), maxAttributes)
	}
	for _, k := range sortedKeys(e.Attributes) {
		if err := text(k, "attributes (key)", maxCodeLength, false); err != nil {
			return err
		}
		if err := text(e.Attributes[k], "attributes."+k, maxTextLength, true); err != nil {
			return err
		}
	}
	return nil
}

func checkConsent(c *consentRecord) *InvalidEventError {
	return text(c.SubjectID, "subject_id", maxTextLength, false)
}

func text(value, field string, limit int, emptyAllowed bool) *InvalidEventError {
	if !utf8.ValidString(value) {
		return invalid(field, "invalid_unicode", "is not valid UTF-8 text")
	}
	if !emptyAllowed && isBlank(value) {
		return invalid(field, "empty", "must not be empty")
	}
	if n := utf8.RuneCountInString(value); n > limit {
		return invalid(field, "too_long", "is %d characters long; at most %d allowed", n, limit)
	}
	return nil
}

func optionalText(value *string, field string, limit int) *InvalidEventError {
	if value == nil {
		return nil
	}
	return text(*value, field, limit, false)
}

func symbol(value, field string, symbols []string) *InvalidEventError {
	for _, s := range symbols {
		if s == value {
			return nil
		}
	}
	return invalid(field, "not_symbol", "%q is not one of %s", value, strings.Join(symbols, ", "))
}

// isUUID accepts what Python's uuid.UUID(text) takes: 32 hex digits, hyphens, braces, urn prefix.
func isUUID(s string) bool {
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.TrimLeft(s, "{")
	s = strings.TrimRight(s, "}")
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

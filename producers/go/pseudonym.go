package dua

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// pseudonyms makes subject pseudonyms: HMAC-SHA256 of the raw id under the subject key, as
// 64 lower-case hex characters.
//
// The one normalization of every dua SDK: a string is hashed exactly as given (UTF-8, no
// trimming) and refused when empty or only White_Space (empty) or when it is not valid UTF-8,
// as a lone surrogate is (invalid_unicode); an integer as its decimal text (it must fit an
// int64: out_of_range); a UUID (any [16]byte type) as its lower-case hyphenated text.
type pseudonyms struct {
	key []byte
}

func (p pseudonyms) pseudonym(rawID any) (string, error) {
	raw, err := subjectText(rawID)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(raw) {
		return "", invalid("subject", "invalid_unicode", "is not valid UTF-8 (a lone surrogate?)")
	}
	if isBlank(raw) {
		return "", invalid("subject", "empty", "must not be empty")
	}
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(raw))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

func subjectText(rawID any) (string, error) {
	switch v := rawID.(type) {
	case string:
		return v, nil
	case int:
		return strconv.FormatInt(int64(v), 10), nil
	case int8:
		return strconv.FormatInt(int64(v), 10), nil
	case int16:
		return strconv.FormatInt(int64(v), 10), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint:
		return unsignedText(uint64(v))
	case uint8:
		return unsignedText(uint64(v))
	case uint16:
		return unsignedText(uint64(v))
	case uint32:
		return unsignedText(uint64(v))
	case uint64:
		return unsignedText(v)
	case *big.Int:
		if v == nil {
			break
		}
		if !v.IsInt64() {
			return "", invalid("subject", "out_of_range", "is an integer outside the signed 64-bit range")
		}
		return v.String(), nil
	case [16]byte:
		return uuidText(v), nil
	}
	if t := reflect.TypeOf(rawID); t != nil && t.Kind() == reflect.Array && t.Len() == 16 && t.Elem().Kind() == reflect.Uint8 {
		var u [16]byte
		reflect.Copy(reflect.ValueOf(u[:]), reflect.ValueOf(rawID))
		return uuidText(u), nil
	}
	return "", invalid("subject", "wrong_type", "must be a string, an integer or a UUID, got %T", rawID)
}

func unsignedText(v uint64) (string, error) {
	if v > 1<<63-1 {
		return "", invalid("subject", "out_of_range", "is an integer outside the signed 64-bit range")
	}
	return strconv.FormatUint(v, 10), nil
}

func uuidText(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

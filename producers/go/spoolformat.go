package dua

import (
	"encoding/binary"
	"hash/crc32"
	"unicode/utf8"
)

// The spool segment format shared by every dua SDK:
//
//	record := length (u32 BE, of body) | crc32 IEEE (body) (u32 BE) | body
//	body   := topic length (u16 BE) | topic (UTF-8) | key length (u16 BE) | key | value
const (
	spoolHeader  = 8
	spoolMaxBody = 16 * 1024 * 1024
)

// spoolRecord is one message read back from a segment; End is the offset after it.
type spoolRecord struct {
	Topic string
	Key   []byte
	Value []byte
	End   int64
}

// scanEnd is where a scan stopped; Reason is "" when clean.
type scanEnd struct {
	Offset int64
	Clean  bool
	Reason string
}

func appendSpoolRecord(b []byte, topic string, key, value []byte) []byte {
	bodyLength := 2 + len(topic) + 2 + len(key) + len(value)
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(bodyLength))
	b = append(b, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(topic)))
	b = append(b, topic...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(key)))
	b = append(b, key...)
	b = append(b, value...)
	binary.BigEndian.PutUint32(b[start+4:], crc32.ChecksumIEEE(b[start+spoolHeader:]))
	return b
}

// scanSegment reads the intact records of data from start and says where and why it stopped.
func scanSegment(data []byte, start int64) ([]spoolRecord, scanEnd) {
	var records []spoolRecord
	offset := start
	size := int64(len(data))
	for offset+spoolHeader <= size {
		length := int64(binary.BigEndian.Uint32(data[offset:]))
		crc := binary.BigEndian.Uint32(data[offset+4:])
		end := offset + spoolHeader + length
		if length > spoolMaxBody || end > size {
			return records, scanEnd{offset, false, "torn_record"}
		}
		body := data[offset+spoolHeader : end]
		if crc32.ChecksumIEEE(body) != crc {
			return records, scanEnd{offset, false, "checksum_mismatch"}
		}
		r, ok := parseSpoolBody(body)
		if !ok {
			return records, scanEnd{offset, false, "bad_body"}
		}
		r.End = end
		records = append(records, r)
		offset = end
	}
	if offset == size {
		return records, scanEnd{offset, true, ""}
	}
	return records, scanEnd{offset, false, "torn_header"}
}

func parseSpoolBody(body []byte) (spoolRecord, bool) {
	if len(body) < 2 {
		return spoolRecord{}, false
	}
	topicEnd := 2 + int(binary.BigEndian.Uint16(body))
	if topicEnd+2 > len(body) || !utf8.Valid(body[2:topicEnd]) {
		return spoolRecord{}, false
	}
	keyEnd := topicEnd + 2 + int(binary.BigEndian.Uint16(body[topicEnd:]))
	if keyEnd > len(body) {
		return spoolRecord{}, false
	}
	return spoolRecord{
		Topic: string(body[2:topicEnd]),
		Key:   append([]byte{}, body[topicEnd+2:keyEnd]...),
		Value: append([]byte{}, body[keyEnd:]...),
	}, true
}

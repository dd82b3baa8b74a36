package dua

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// spool is a durable, bounded queue of messages Kafka did not take, in the directory layout
// every dua SDK shares: <n>.seg segments (16-digit numbers) of spool records, <n>.ack cursors
// (bytes of the segment delivered, ASCII decimal, replaced atomically) and spool.lock, locked
// with a POSIX record lock while a process owns the directory (the lock Python's lockf and
// Java's FileChannel.tryLock take). Every append is one write: a killed process loses nothing
// it appended. Safe for concurrent use.
type spool struct {
	dir          string
	maxBytes     int64
	segmentBytes int64
	lockFile     *os.File

	mu            sync.Mutex
	sealed        []int64
	active        *os.File
	activeNumber  int64
	activeSize    int64
	activeRecords int64
	bytes         int64
	pending       int64
	closed        bool
}

// spoolBatch is the oldest undelivered records of one segment.
type spoolBatch struct {
	segment            int64
	records            []spoolRecord
	remainingInSegment int
	segmentSize        int64
}

var segmentName = regexp.MustCompile(`^\d+\.seg$`)

// ErrSpoolLocked is returned by New when another process (or client) owns the spool directory.
var ErrSpoolLocked = errors.New("dua: the spool directory is in use by another process; give each process its own spool directory")

func openSpool(dir string, maxBytes, segmentBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(filepath.Join(dir, "spool.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(lf); err != nil {
		lf.Close()
		return nil, fmt.Errorf("%w (%s: %v)", ErrSpoolLocked, dir, err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, segmentBytes: segmentBytes, lockFile: lf, activeNumber: -1}
	if err := s.recover(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *spool) segmentPath(n int64) string { return filepath.Join(s.dir, fmt.Sprintf("%016d.seg", n)) }
func (s *spool) ackPath(n int64) string     { return filepath.Join(s.dir, fmt.Sprintf("%016d.ack", n)) }

func (s *spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var numbers []int64
	for _, e := range entries {
		if segmentName.MatchString(e.Name()) {
			n, err := strconv.ParseInt(strings.TrimSuffix(e.Name(), ".seg"), 10, 64)
			if err == nil {
				numbers = append(numbers, n)
			}
		}
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		data, err := os.ReadFile(s.segmentPath(n))
		if err != nil {
			return err
		}
		cursor := s.readCursor(n)
		all, _ := scanSegment(data, 0)
		if cursor != 0 && !slices.ContainsFunc(all, func(r spoolRecord) bool { return r.End == cursor }) {
			os.Remove(s.ackPath(n)) // a cursor inside a record: replay the whole segment
			cursor = 0
		}
		live, _ := scanSegment(data, cursor)
		if len(live) == 0 {
			s.remove(n, 0)
			continue
		}
		s.sealed = append(s.sealed, n)
		s.bytes += int64(len(data))
		s.pending += int64(len(live))
	}
	return nil
}

func (s *spool) readCursor(n int64) int64 {
	data, err := os.ReadFile(s.ackPath(n))
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// stats returns the undelivered records and the bytes the segments take.
func (s *spool) stats() (pending, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending, s.bytes
}

// append writes one message; false when the spool is full, closed or the disk refused it.
func (s *spool) append(topic string, key, value []byte) bool {
	data := appendSpoolRecord(nil, topic, key, value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.bytes+int64(len(data)) > s.maxBytes {
		return false
	}
	if s.active == nil || (s.activeSize > 0 && s.activeSize+int64(len(data)) > s.segmentBytes) {
		if err := s.startSegment(); err != nil {
			return false
		}
	}
	if _, err := s.active.Write(data); err != nil {
		return false
	}
	s.activeSize += int64(len(data))
	s.activeRecords++
	s.bytes += int64(len(data))
	s.pending++
	return true
}

// next returns up to limit of the oldest undelivered records, or nil when the spool is empty.
func (s *spool) next(limit int) (*spoolBatch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.sealed) == 0 && s.active != nil && s.activeRecords > 0 {
			if err := s.sealActive(); err != nil {
				return nil, err
			}
		}
		if len(s.sealed) == 0 {
			return nil, nil
		}
		head := s.sealed[0]
		data, err := os.ReadFile(s.segmentPath(head))
		if err != nil {
			return nil, err
		}
		records, _ := scanSegment(data, s.readCursor(head))
		if len(records) == 0 {
			s.remove(head, int64(len(data)))
			continue
		}
		return &spoolBatch{head, records[:min(limit, len(records))], len(records), int64(len(data))}, nil
	}
}

// settle records that the first delivered records of b reached Kafka.
func (s *spool) settle(b *spoolBatch, delivered int) error {
	if delivered == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending -= int64(delivered)
	if delivered == b.remainingInSegment {
		s.remove(b.segment, b.segmentSize)
		return nil
	}
	tmp := s.ackPath(b.segment) + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(b.records[delivered-1].End, 10)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.ackPath(b.segment))
}

// sync makes the appended records durable.
func (s *spool) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return nil
	}
	return s.active.Sync()
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.active != nil {
		errs = append(errs, s.active.Sync(), s.active.Close())
		if s.activeRecords == 0 {
			os.Remove(s.segmentPath(s.activeNumber))
		}
		s.active = nil
	}
	errs = append(errs, s.lockFile.Close()) // closing the descriptor releases the lock
	return errors.Join(errs...)
}

func (s *spool) startSegment() error {
	if err := s.sealActive(); err != nil {
		return err
	}
	n := s.activeNumber
	if len(s.sealed) > 0 {
		n = max(n, s.sealed[len(s.sealed)-1])
	}
	n++
	f, err := os.OpenFile(s.segmentPath(n), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.active, s.activeNumber, s.activeSize, s.activeRecords = f, n, 0, 0
	return nil
}

func (s *spool) sealActive() error {
	if s.active == nil {
		return nil
	}
	err := errors.Join(s.active.Sync(), s.active.Close())
	s.active = nil
	if s.activeRecords > 0 {
		s.sealed = append(s.sealed, s.activeNumber)
	} else {
		os.Remove(s.segmentPath(s.activeNumber))
	}
	return err
}

func (s *spool) remove(n, size int64) {
	s.sealed = slices.DeleteFunc(s.sealed, func(x int64) bool { return x == n })
	s.bytes -= size
	os.Remove(s.segmentPath(n))
	os.Remove(s.ackPath(n))
}

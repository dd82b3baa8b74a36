//go:build unix && !linux

package dua

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive fcntl record lock on the whole file (F_SETLK), the lock Python's
// lockf and Java's FileChannel.tryLock take. Two clients of one process do not exclude each
// other with it: give each its own directory.
func lockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}

package dua

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive open-file-description record lock on the whole file. It
// conflicts with the classic fcntl F_SETLK locks other processes take (Python's lockf, Java's
// FileChannel.tryLock) and, unlike them, also with a second client in this process.
func lockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}

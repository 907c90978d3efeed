//go:build unix

package usage

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f for as long as f is open;
// the kernel drops it when the process dies, however it dies.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// heldByOther reports whether another open file holds f's lock (an import
// still running). When it does not, f now holds the lock.
func heldByOther(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

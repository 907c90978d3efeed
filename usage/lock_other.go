//go:build !unix

package usage

import (
	"os"
	"time"
)

// lockFile does nothing where flock is not available.
func lockFile(*os.File) error { return nil }

// heldByOther, without locks, takes a file untouched for a day as left by
// an import that died.
func heldByOther(f *os.File) (bool, error) {
	info, err := f.Stat()
	if err != nil {
		return true, err
	}
	return time.Since(info.ModTime()) < 24*time.Hour, nil
}

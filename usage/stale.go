package usage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempPrefix names the files an import writes before it keeps them. An
// import holds an exclusive lock on its file while it runs (lockFile), so
// a file nobody holds was left by an import that died (kill -9, a crash):
// RemoveStale deletes those (docs/operations.md, "Usage files").
const tempPrefix = ".import-"

// createLocked creates a temporary import file in dir and locks it. Between
// the creation and the lock another import's cleanup may take the file for
// stale: then the lock is refused (the cleanup holds it) or the name no
// longer leads to the locked file (the cleanup removed it), and a new file
// is made.
func createLocked(dir string) (*os.File, error) {
	for attempt := 1; ; attempt++ {
		f, err := os.CreateTemp(dir, tempPrefix+"*")
		if err != nil {
			return nil, fmt.Errorf("usage: %w", err)
		}
		err = lockFile(f)
		if err == nil {
			var ours bool
			if ours, err = sameFile(f); err == nil && ours {
				return f, nil
			}
		}
		f.Close()
		os.Remove(f.Name()) // harmless when the cleanup removed it
		if attempt == 20 {
			return nil, fmt.Errorf("usage: lock a temporary file in %s: %v (20 attempts)", dir, err)
		}
		time.Sleep(time.Duration(attempt) * time.Millisecond)
	}
}

// sameFile reports whether f's name still leads to f.
func sameFile(f *os.File) (bool, error) {
	open, err := f.Stat()
	if err != nil {
		return false, err
	}
	named, err := os.Stat(f.Name())
	if err != nil {
		return false, err
	}
	return os.SameFile(open, named), nil
}

// RemoveStale deletes the temporary files of imports that died, in every
// usage folder of the data directory, and says how many it removed and
// how many bytes they held. Files of imports still running are left alone.
// The server calls it at start; every import calls it for its own folder.
func RemoveStale(dataDir string) (files int, bytes int64, err error) {
	root := filepath.Join(dataDir, "usage")
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	} else if err != nil {
		return 0, 0, fmt.Errorf("usage: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n, b, err := removeStaleIn(filepath.Join(root, e.Name()))
		files, bytes = files+n, bytes+b
		if err != nil {
			return files, bytes, err
		}
	}
	return files, bytes, nil
}

// removeStaleIn removes the unlocked temporary files of one folder.
func removeStaleIn(dir string) (files int, bytes int64, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("usage: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue // gone meanwhile: its import finished
		}
		held, err := heldByOther(f)
		if err == nil && !held {
			if info, err := f.Stat(); err == nil {
				bytes += info.Size()
			}
			if os.Remove(path) == nil {
				files++
			}
		}
		f.Close()
	}
	return files, bytes, nil
}

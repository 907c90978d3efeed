package sqlstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushFilesystem writes the dirty pages of the filesystem that holds dir to
// disk (syncfs(2)). It opens the directory, never the database file: closing
// any descriptor of that file would drop the POSIX locks SQLite holds on it
// for this process.
func flushFilesystem(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

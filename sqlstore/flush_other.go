//go:build !linux

package sqlstore

// flushFilesystem is a no-op where syncfs(2) does not exist: the completing
// checkpoint then flushes the database file under the writer lock.
func flushFilesystem(dir string) error { return nil }

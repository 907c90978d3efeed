package main

import (
	"io"
	"os"
	"time"
)

// Main holds what the commands share: global flags and the process's
// standard streams and clock, so end-to-end tests can run commands in
// process.
type Main struct {
	DataDir string
	DSN     string
	// UsageStore and UsageBuckets place the partitioned usage store
	// (docs/scale.md); "" is the data directory's.
	UsageStore   string
	UsageBuckets int
	Stdout       io.Writer
	Stderr       io.Writer
	Stdin        io.Reader
	Now          func() time.Time
}

// NewMain returns a Main on the process's streams and the real clock.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Now: time.Now}
}

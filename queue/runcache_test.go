package queue

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/usagestore"
)

// A job of a run older than the latest one this worker loaded (a close
// started earlier, or a retry) gets that run's inputs open, for as long as
// it uses them; only then are they closed (docs/scale.md, "When something
// dies"). Its store was closed before the job could read it.
func TestRunCacheKeepsAnOlderRunInUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := &runCache{load: func(ctx context.Context, _ Store, id int64) (*loadedRun, error) {
		st, err := usagestore.Open(ctx, "file://"+dir, 4)
		if err != nil {
			return nil, err
		}
		return &loadedRun{id: id, store: st}, nil
	}}
	newer, doneNewer, err := c.get(ctx, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	older, doneOlder, err := c.get(ctx, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	readable := func(r *loadedRun) bool {
		_, err := r.store.Read(ctx, "nothing-here")
		return err != nil && !errors.Is(err, context.Canceled) && c.runs[r.id] == r && !isClosed(err)
	}
	if !readable(older) || !readable(newer) {
		t.Fatalf("a run in use was evicted: runs %v", c.runs)
	}
	doneOlder()
	if _, ok := c.runs[1]; ok {
		t.Error("the older run outlived its last job")
	}
	doneNewer()
	if _, ok := c.runs[2]; !ok {
		t.Error("the latest run was evicted with no newer one")
	}
}

// isClosed reports the error of a read from a closed bucket.
func isClosed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "has been closed")
}

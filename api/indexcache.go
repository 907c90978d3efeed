package api

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/partnerlink/partnerlink/attribution"
)

// StateVersioner names the stored state's version: it changes with every
// write, and is "" when the store cannot tell (sqlstore.DB.StateVersion).
type StateVersioner interface {
	StateVersion(ctx context.Context) (string, error)
}

// indexCache keeps the attribution index that explain reads, for one state
// version, and builds one index at a time (docs/operations.md, "Explain"):
// explains of an unchanged state share one index, and a burst of explains
// holds at most the cached index and the one being built.
type indexCache struct {
	building sync.Mutex // one build at a time
	mu       sync.Mutex
	version  string
	ix       *attribution.Index
	builds   atomic.Int64 // indexes built, for tests
}

// get returns the index of the store's current state.
func (c *indexCache) get(ctx context.Context, st interface {
	Exporter
	StateVersioner
}) (*attribution.Index, error) {
	v, err := st.StateVersion(ctx)
	if err != nil {
		return nil, err
	}
	if ix := c.lookup(v); ix != nil {
		return ix, nil
	}
	c.building.Lock()
	defer c.building.Unlock()
	if ix := c.lookup(v); ix != nil { // built while this caller waited
		return ix, nil
	}
	doc, err := st.ExportWorld(ctx)
	if err != nil {
		return nil, err
	}
	ix, err := attribution.NewIndex(doc)
	if err != nil {
		return nil, err
	}
	c.builds.Add(1)
	if v != "" {
		c.mu.Lock()
		c.version, c.ix = v, ix
		c.mu.Unlock()
	}
	return ix, nil
}

func (c *indexCache) lookup(version string) *attribution.Index {
	if version == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == version {
		return c.ix
	}
	return nil
}

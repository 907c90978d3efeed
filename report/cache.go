package report

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/partnerlink/partnerlink"
)

// Cache keeps the contents of the versions read most recently, parsed. A
// published version never changes (docs/rules.md#monthly-close), so a
// report request after the first reads no content from the store and
// parses nothing; a month of 10M usage rows takes over half a second and a
// few hundred megabytes to parse (docs/performance.md, "Report reads").
// Requests share a content: renders only read it.
type Cache struct {
	size int
	idle time.Duration

	mu      sync.Mutex
	entries []cacheEntry // the most recently used first
	sweep   *time.Timer  // set while entries are kept
	loads   singleflight.Group

	hits, misses atomic.Int64
}

type cacheEntry struct {
	key     string // month, version and hash
	content *Content
	used    time.Time
}

// NewCache keeps the contents of up to size versions, each until it has
// not been read for idle. A size below 1 keeps none.
func NewCache(size int, idle time.Duration) *Cache {
	return &Cache{size: size, idle: idle}
}

// Stats returns how many reads the cache answered (joining a load under
// way included) and how many read the store.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// content returns the content of version v (its month, number and hash
// name it), from the cache or by load. Reads of one version at once load
// it once; a reader whose ctx ends stops waiting (the load goes on for the
// others, and is kept).
func (c *Cache) content(ctx context.Context, v *partnerlink.ReportVersion, load func() (*Content, error)) (*Content, error) {
	if c == nil || c.size < 1 {
		return load()
	}
	key := fmt.Sprintf("%s/%d/%s", v.Month, v.Version, v.Hash)
	if got := c.get(key); got != nil {
		c.hits.Add(1)
		return got, nil
	}
	var loaded atomic.Bool // this reader's call loaded it (the others joined)
	ch := c.loads.DoChan(key, func() (any, error) {
		if got := c.get(key); got != nil { // loaded while this read waited for the lock
			return got, nil
		}
		loaded.Store(true)
		got, err := load()
		if err == nil {
			c.put(key, got)
		}
		return got, err
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		if loaded.Load() {
			c.misses.Add(1)
		} else {
			c.hits.Add(1)
		}
		return r.Val.(*Content), nil
	}
}

// Close lets go of the kept contents and stops expiring them (a server
// that stops).
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sweep != nil {
		c.sweep.Stop()
		c.sweep = nil
	}
	clear(c.entries)
	c.entries = nil
}

func (c *Cache) get(key string) *Content {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == key {
			e.used = time.Now()
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e.content
		}
	}
	return nil
}

func (c *Cache) put(key string, content *Content) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == c.size {
		c.entries[len(c.entries)-1] = cacheEntry{} // let go of the least recently used
		c.entries = c.entries[:len(c.entries)-1]
	}
	c.entries = append([]cacheEntry{{key: key, content: content, used: time.Now()}}, c.entries...)
	if c.sweep == nil && c.idle > 0 {
		c.sweep = time.AfterFunc(c.idle, c.expire)
	}
}

// expire lets go of the contents not read for idle, and comes back when
// the next one is due.
func (c *Cache) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	kept := c.entries[:0]
	for _, e := range c.entries {
		if now.Sub(e.used) < c.idle {
			kept = append(kept, e)
		}
	}
	clear(c.entries[len(kept):])
	c.entries = kept
	if len(kept) == 0 {
		c.sweep = nil
		return
	}
	// The entries are by use, the most recent first: the last expires first.
	c.sweep.Reset(c.idle - now.Sub(kept[len(kept)-1].used))
}

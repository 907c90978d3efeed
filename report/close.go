package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/klauspost/compress/gzip"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// Store is what closes and reports read and write.
type Store interface {
	usage.Store
	partnerlink.ReportStore
	partnerlink.PartitionStore
	ExportWorld(ctx context.Context) (*world.Document, error)
	LinkEvents(ctx context.Context, f partnerlink.LinkFilter) ([]partnerlink.LinkEvent, error)
	NotificationsQueued(ctx context.Context, from, to time.Time) ([]partnerlink.Notification, error)
}

// DefaultCloseDay is the day of the next month on which a month closes.
const DefaultCloseDay = 10

// Service closes months and renders their reports.
type Service struct {
	Store   Store
	DataDir string
	Now     func() time.Time
	// CloseDay is the day of month m+1 from which month m may close
	// (DefaultCloseDay when 0).
	CloseDay int
	// Workers read usage in parallel (1 when 0): the partitions this
	// process runs at once.
	Workers int
	// UsageStore is the partitioned usage store's URL (docs/scale.md;
	// the data directory's usage-store folder when ""), and Buckets the
	// subscription buckets a month splits into (usagestore.DefaultBuckets
	// when 0).
	UsageStore string
	Buckets    int
	// Executor, when set, runs the partitions on the job queue's workers
	// instead of this process's goroutines.
	Executor Executor
	// Step, when set, is told how long each step of a close's attribution
	// took (the bench's profile shows them).
	Step func(name string, took time.Duration)
	// Cache, when set, keeps the contents Read parsed (a server's: the
	// portal and the API read the same months again and again).
	Cache *Cache
}

// step returns a function that tells Step how long it has been since the
// previous step.
func (s *Service) step() func(name string) {
	t := time.Now()
	return func(name string) {
		if s.Step != nil {
			s.Step(name, time.Since(t))
		}
		t = time.Now()
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Closed is the outcome of a close.
type Closed struct {
	Version   partnerlink.ReportVersion // the published version, or the latest when nothing changed
	Published bool                      // false: the month's content equals the latest version
	Changes   []Change                  // what the new version restates of the one before
}

// OpensOn returns the instant from which month may close: day CloseDay of
// the next month, 00:00 UTC.
func (s *Service) OpensOn(month partnerlink.Month) time.Time {
	return month.End().AddDate(0, 0, cmp.Or(s.CloseDay, DefaultCloseDay)-1)
}

// Close runs the month's attribution on the stored state and imported
// usage and publishes it as the month's next version, unless it equals the
// latest (docs/rules.md#monthly-close). Before the close day it is refused
// unless early. Nothing is written until the one transaction that
// publishes the version, so a close that dies leaves the previous state,
// and running it again finishes the job.
func (s *Service) Close(ctx context.Context, month partnerlink.Month, early bool) (*Closed, error) {
	now := s.now()
	if !now.Before(month.Start()) && now.Before(month.End()) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "month %s is not over yet; it can close from %s", month, s.OpensOn(month).Format("2006-01-02"))
	}
	if now.Before(month.Start()) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "month %s has not begun", month)
	}
	if opens := s.OpensOn(month); now.Before(opens) && !early {
		return nil, partnerlink.Errorf(partnerlink.EINVALID,
			"month %s closes on %s (day %d of the next month, when late usage has arrived); pass --early to close it now",
			month, opens.Format("2006-01-02"), cmp.Or(s.CloseDay, DefaultCloseDay))
	}
	content, err := s.compute(ctx, month)
	if err != nil {
		return nil, err
	}
	// Encoding makes garbage (its blocks, the compressed bytes as they
	// grow) beside the whole content: collected early, it does not add
	// a third to the close's memory (docs/performance.md, "Monthly close").
	restore := leanGC()
	body, sum, err := Compressed(content)
	restore()
	if err != nil {
		return nil, err
	}
	v := partnerlink.ReportVersion{Month: month.String(), PublishedAt: now, Hash: hex.EncodeToString(sum[:]), Content: body,
		Notify: content.Recipients()}
	var changes []Change
	var same *partnerlink.ReportVersion // the latest, when it holds this content in the earlier format
	restate := func(latest *partnerlink.ReportVersion) ([]byte, error) {
		// The latest version is read beside this one: what building and
		// encoding this one left is returned to the system first.
		debug.FreeOSMemory()
		var err error
		if earlierFormat(latest.Content) {
			var old *Content
			old, err = Unmarshal(latest.Content) // re-encoded whole below
			if err != nil {
				return nil, fmt.Errorf("report: version %d of %s: %w", latest.Version, month, err)
			}
			// The same content in other bytes is no change: compare what
			// the version holds, written as today.
			h := sha256.New()
			if err := Encode(h, old); err == nil && [sha256.Size]byte(h.Sum(nil)) == sum {
				same = &partnerlink.ReportVersion{Month: latest.Month, Version: latest.Version, PublishedAt: latest.PublishedAt,
					Hash: latest.Hash, Restatement: latest.Restatement}
				return nil, errSameContent
			}
			changes, err = Diff(old, content)
		} else {
			// Each line read is garbage once matched: collected early, it
			// does not pile up beside the new content.
			restore := leanGC()
			changes, err = diffStored(latest.Content, content)
			restore()
		}
		if err != nil {
			return nil, fmt.Errorf("report: version %d of %s: %w", latest.Version, month, err)
		}
		if len(changes) == 0 {
			// No line changed: a tenant or partner ID registered since, and
			// named nowhere in the month, is no reason for a version.
			old, err := Unmarshal(latest.Content)
			if err != nil {
				return nil, fmt.Errorf("report: version %d of %s: %w", latest.Version, month, err)
			}
			a, errA := substanceSum(old)
			b, errB := substanceSum(content)
			if err := errors.Join(errA, errB); err != nil {
				return nil, err
			}
			if a == b {
				same = &partnerlink.ReportVersion{Month: latest.Month, Version: latest.Version, PublishedAt: latest.PublishedAt,
					Hash: latest.Hash, Restatement: latest.Restatement}
				return nil, errSameContent
			}
		}
		return json.Marshal(Restatement{Of: latest.Version, Changes: changes, Totals: Totals(changes)})
	}
	got, published, err := s.Store.PublishReportVersion(ctx, v, restate)
	if errors.Is(err, errSameContent) {
		return &Closed{Version: *same}, nil
	}
	if err != nil {
		return nil, err
	}
	if !published {
		changes = nil
	}
	got.Content = nil
	return &Closed{Version: *got, Published: published, Changes: changes}, nil
}

// substanceSum is the SHA-256 of c as Encode writes it with only the
// tenants and partner IDs the month names (in a line, a credential, an
// event, a notification or an unlinked credential, and the global IDs of
// the partner IDs named): what the reports say, whatever else the
// directory and the registry held when the month closed.
func substanceSum(c *Content) ([sha256.Size]byte, error) {
	tenants, partners := map[string]bool{}, map[string]bool{}
	for _, l := range c.Azure {
		partners[l.PartnerID], tenants[l.TenantID] = true, true
	}
	for _, l := range c.Organizations {
		partners[l.GlobalPartnerID], tenants[l.TenantID] = true, true
	}
	for _, l := range c.PowerPlatform {
		partners[l.PartnerID], tenants[l.TenantID] = true, true
	}
	for _, cr := range c.Credentials {
		partners[cr.PartnerID], tenants[cr.TenantID] = true, true
		for _, a := range cr.Access {
			tenants[a.TenantID] = true
		}
	}
	for _, e := range c.Events {
		partners[e.PartnerID], partners[e.PreviousPartnerID], tenants[e.TenantID] = true, true, true
	}
	for _, n := range c.Notifications {
		tenants[n.TenantID] = true
	}
	for _, u := range c.Unlinked {
		partners[u.GlobalPartnerID], tenants[u.TenantID] = true, true
		for _, a := range u.Access {
			tenants[a.TenantID] = true
		}
	}
	for _, r := range c.Readable {
		partners[r.PartnerID], tenants[r.TenantID] = true, true
	}
	for _, p := range c.Partners {
		if partners[p.ID] && p.GlobalID != "" {
			partners[p.GlobalID] = true
		}
	}
	s := *c
	s.Tenants = slices.DeleteFunc(slices.Clone(c.Tenants), func(t Tenant) bool { return !tenants[t.ID] })
	s.Partners = slices.DeleteFunc(slices.Clone(c.Partners), func(p Partner) bool { return !partners[p.ID] })
	h := sha256.New()
	if err := Encode(h, &s); err != nil {
		return [sha256.Size]byte{}, err
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

// Compressed returns c's canonical JSON compressed as a store keeps it
// (gzip), and the JSON's SHA-256, both made as it is written.
func Compressed(c *Content) ([]byte, [sha256.Size]byte, error) {
	var out bytes.Buffer
	h := sha256.New()
	z, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err == nil {
		err = Encode(io.MultiWriter(h, z), c)
	}
	if err == nil {
		err = z.Close()
	}
	return out.Bytes(), [sha256.Size]byte(h.Sum(nil)), err
}

// errSameContent stops a publication whose content the latest version
// already holds, in the earlier format.
var errSameContent = errors.New("report: the latest version holds this content")

// earlierFormat reports whether a version's content has its Azure lines
// in an earlier format (AzureLines): a list (of objects or of arrays), or
// a table without its count.
func earlierFormat(content []byte) bool {
	head := contentHead(content, 64)
	return bytes.Contains(head, []byte(`"azure":[`)) || bytes.Contains(head, []byte(`"azure":{"resources"`))
}

// compute runs the month's attribution and builds its content.
func (s *Service) compute(ctx context.Context, month partnerlink.Month) (*Content, error) {
	in, err := s.Inputs(ctx, month)
	if err != nil {
		return nil, err
	}
	if in.People != nil {
		// The month is read: Build names partners and subscriptions
		// through the indexes, but needs none of their grants.
		in.Index.DropGrants()
		if in.WhatIfIndex != nil {
			in.WhatIfIndex.DropGrants()
		}
	}
	// A collection between the steps sets the heap's next goal from what
	// the next step keeps, not from the garbage of the one before (the
	// scan's buffers, Build's temporaries), and returns what was freed to
	// the system (docs/performance.md, "Monthly close").
	debug.FreeOSMemory()
	c, err := Build(*in)
	debug.FreeOSMemory()
	return c, err
}

// Inputs runs the month's attributions (Azure, as a partitioned run, and
// Power Platform) on the stored state and reads what its reports show.
func (s *Service) Inputs(ctx context.Context, month partnerlink.Month) (*Inputs, error) {
	step := s.step()
	doc, err := s.Store.ExportWorld(ctx)
	if err != nil {
		return nil, err
	}
	step("export the world")
	ims, err := s.Store.UsageImports(ctx, usage.FOCUS.Name, []string{month.String()})
	if err != nil {
		return nil, err
	}
	// Power Platform first: its credit is small, and the Azure pass then
	// holds the only reference to the whole world, which it lets go of
	// once the credentials are worked out (prepare).
	in, err := powerplatform.FromWorld(doc)
	if err != nil {
		return nil, err
	}
	model, err := powerplatform.NewModel(in)
	if err != nil {
		return nil, err
	}
	activity, _, err := usage.LoadActivity(ctx, s.Store, s.DataDir, month.End())
	if err != nil {
		return nil, err
	}
	pp, err := model.Credits(activity, month.Start(), month.End())
	if err != nil {
		return nil, err
	}
	step("Power Platform")
	inputs, err := s.computePartitioned(ctx, doc, month, ims, step)
	if err != nil {
		return nil, err
	}
	files := make([]string, len(ims))
	for i, im := range ims {
		files[i] = im.Hash
	}
	inputs.Files = files
	// The month's events and notifications only: both grow with every
	// link change and version, for as long as the program runs.
	events, err := s.Store.LinkEvents(ctx, partnerlink.LinkFilter{From: month.Start(), To: month.End()})
	if err != nil {
		return nil, err
	}
	inputs.PowerPlatform, inputs.Events = pp, events
	if inputs.Notifications, err = s.Store.NotificationsQueued(ctx, month.Start(), month.End()); err != nil {
		return nil, err
	}
	step("events and notifications")
	return inputs, nil
}

// Attribute runs the month's attributions over doc, in one pass over the
// usage that scan feeds to the run it is given: per partner ID, per
// organization, and (when some credentials of an organization are
// unlinked) on the world where they are linked. The Inputs it returns lack
// only the Power Platform credit, the events and the files.
func Attribute(doc *world.Document, month partnerlink.Month, workers int, scan func(run *attribution.Run) error) (*Inputs, error) {
	p, err := prepare(doc, month, true)
	if err != nil {
		return nil, err
	}
	run, err := p.Run(workers)
	if err != nil {
		return nil, err
	}
	if err := scan(run); err != nil {
		return nil, err
	}
	return p.Inputs(run.Result(), run.Beside()), nil
}

// Prepared is what every pass over a month's usage shares, whole or in
// partitions: the world, its indexes and the unlinked credentials' world.
type Prepared struct {
	Month  partnerlink.Month
	Doc    *world.Document
	ix     *attribution.Index
	what   *whatIf
	whatIx *attribution.Index
	people *People // worked out as the indexes were built (prepare with people)
}

// Prepare builds the month's indexes (docs/rules.md#monthly-close) for
// runs over its partitions.
func Prepare(doc *world.Document, month partnerlink.Month) (*Prepared, error) {
	return prepare(doc, month, false)
}

// prepare is Prepare that, with people, also works out People from the
// indexes' chains as they are built (attribution.NewIndexEach): the
// chains are never held, and the usage is read with none of them.
func prepare(doc *world.Document, month partnerlink.Month, people bool) (*Prepared, error) {
	period := month.Period()
	var creds *credentialsOf
	var each func(*attribution.Chain)
	if people {
		creds = newCredentialsOf(doc, period)
		each = creds.add
	}
	// The stored world is checked on one core while the other indexes it
	// (the index is kept only when it is valid). The what-if world is the
	// same world with other partners and links, so only what its links rely
	// on is checked again (world.ValidateVariant) before it is indexed.
	p := &Prepared{Month: month, Doc: doc}
	validated := world.Validated(doc)
	var checkErr error
	var unlinked *accessOf
	var wg sync.WaitGroup
	wg.Go(func() {
		if !validated {
			if checkErr = world.Check(doc, "of the store"); checkErr != nil {
				return
			}
		}
		if p.what = newWhatIf(doc, period); p.what == nil {
			return
		}
		var whatEach func(*attribution.Chain)
		if people {
			unlinked = p.what.accessOf(doc, period)
			whatEach = unlinked.add
		}
		if checkErr = world.ValidateVariant(p.what.doc, doc); checkErr == nil {
			p.whatIx, checkErr = attribution.NewIndexEach(p.what.doc, whatEach)
		}
		if checkErr != nil {
			checkErr = fmt.Errorf("report: the world with the unlinked credentials linked: %w", checkErr)
		}
	})
	// An organization credited through one ID only has the credit of that
	// ID; organizations are credited apart (once per row) only when they
	// have several IDs linked in the month, where a row may reach them
	// twice.
	ix, err := attribution.NewIndexUnchecked(doc, severalIDs(doc, period), each)
	wg.Wait()
	if checkErr != nil {
		return nil, checkErr // what building an invalid world ran into matters less
	}
	if err != nil {
		return nil, err
	}
	p.ix = ix
	if people {
		// What the chains give needs no usage: worked out as the indexes
		// were built, it lets the usage be read without the world.
		p.people = &People{}
		p.people.credentials, p.people.readable = creds.result()
		if unlinked != nil {
			p.people.unlinkedAccess = unlinked.out
		}
		ix.DropWorld() // Explain then refuses, rather than finding no chain
		if p.whatIx != nil {
			p.whatIx.DropWorld()
		}
		// Build reads only the partners and tenants once People is worked
		// out: the principals, memberships, roles and assignments (tens of
		// megabytes for a large program) are let go before the usage is
		// read, so that the scan's heap goal does not count them.
		p.Doc = &world.Document{Partners: doc.Partners, Tenants: doc.Tenants}
		if p.what != nil {
			p.what.doc = nil
		}
	}
	return p, nil
}

// Run returns a new run over the month's index, per partner ID (with
// organizations), that also totals the what-if world when there are
// unlinked credentials (its Beside result).
func (p *Prepared) Run(workers int) (*attribution.Run, error) {
	opt := attribution.Options{From: p.Month.Start(), To: p.Month.End(), Workers: workers, StoredUsage: true}
	if p.whatIx != nil {
		opt.Beside = p.whatIx
	}
	return attribution.NewRun(p.ix, opt)
}

// Inputs are the Inputs of the month with these results of a Run (whatIf,
// its Beside result, nil when there is no what-if world).
func (p *Prepared) Inputs(perID, whatIf *attribution.Result) *Inputs {
	in := &Inputs{Month: p.Month, Doc: p.Doc, Index: p.ix, Azure: perID, People: p.people}
	if p.what != nil {
		in.WhatIf, in.WhatIfIndex, in.WhatIfResult = p.what, p.whatIx, whatIf
	}
	return in
}

// severalIDs maps the partner IDs of the organizations with links to
// more than one of their IDs in force during the month to their
// organization.
func severalIDs(doc *world.Document, month partnerlink.Period) map[string]string {
	org := map[string]string{}
	for _, p := range doc.Partners {
		org[p.PartnerID] = p.PartnerID
		if p.GlobalPartnerID != nil && *p.GlobalPartnerID != "" {
			org[p.PartnerID] = *p.GlobalPartnerID
		}
	}
	ids := map[string]map[string]bool{}
	for _, l := range doc.Links {
		if _, ok := partnerlink.PeriodOf(l.From, l.To).Intersect(month); ok {
			o := org[l.PartnerID]
			if ids[o] == nil {
				ids[o] = map[string]bool{}
			}
			ids[o][l.PartnerID] = true
		}
	}
	out := map[string]string{}
	for id, o := range org {
		if len(ids[o]) > 1 {
			out[id] = o
		}
	}
	return out
}

// Marshal returns c's canonical JSON, as Encode writes it.
func Marshal(c *Content) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(c.Azure.sizeJSON() + 1<<20)
	if err := Encode(&b, c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Encode writes c's canonical JSON to w: the bytes whose hash identifies
// a version. The long lists, the credit lines' table (most of a large
// month, written by hand: AzureLines) and the credentials, are encoded a
// block at a time on every processor while w takes the blocks before in
// order; the codec writes the rest. A large month (tens of megabytes) is
// never held whole: a close hashes and compresses it as it is written.
func Encode(w io.Writer, c *Content) error {
	rest := *c
	rest.Azure, rest.Credentials = AzureLines{}, []Credential{}
	doc, err := jsonv2.Marshal(&rest, jsonv2.Deterministic(true))
	if err != nil {
		return err
	}
	// The fields in order: "month", then "azure" and, later, "credentials"
	// (no field between holds credentials of its own).
	const azure, credentials = `"azure":[]`, `"credentials":[]`
	at := bytes.Index(doc, []byte(azure))
	at2 := at + bytes.Index(doc[max(at, 0):], []byte(credentials))
	if at < 0 || at2 < at {
		return fmt.Errorf("report: no %s or %s in the encoded content", azure, credentials)
	}
	at2 += len(credentials) - 1 // at the closing bracket
	write := func(b []byte) error {
		_, err := w.Write(b)
		return err
	}
	head := append(doc[:at:at], `"azure":{"count":`...)
	head = strconv.AppendInt(head, int64(len(c.Azure)), 10)
	if err := write(append(head, `,"resources":[`...)); err != nil {
		return err
	}
	t := c.table
	if t == nil || !t.matches(c.Azure) {
		t = c.Azure.table()
	}
	resources, of := t.resources, t.of
	res := func(dst []byte, from, to int) ([]byte, error) { return appendResources(dst, resources[from:to]) }
	if err := encodeBlocks(w, len(resources), 8192, res); err != nil {
		return err
	}
	if err := write([]byte(`],"lines":[`)); err != nil {
		return err
	}
	lines := func(dst []byte, from, to int) ([]byte, error) { return c.Azure[from:to].appendJSON(dst, of[from:to]) }
	if err := encodeBlocks(w, len(c.Azure), 8192, lines); err != nil {
		return err
	}
	if err := write([]byte(`]}`)); err != nil {
		return err
	}
	if err := write(doc[at+len(azure) : at2]); err != nil {
		return err
	}
	creds := func(dst []byte, from, to int) ([]byte, error) {
		// The codec writes the list's brackets: the elements are between.
		b := bytes.NewBuffer(dst)
		if err := jsonv2.MarshalWrite(b, c.Credentials[from:to], jsonv2.Deterministic(true)); err != nil {
			return nil, err
		}
		out := b.Bytes()
		return append(out[:len(dst)], out[len(dst)+1:len(out)-1]...), nil
	}
	if err := encodeBlocks(w, len(c.Credentials), 1024, creds); err != nil {
		return err
	}
	return write(doc[at2:])
}

// encodeBlocks writes n list elements to w, comma-separated, as enc
// appends those from from to to, block at a time. The blocks are encoded
// by one goroutine per processor into buffers used again and again, and
// written in order; at most two blocks per processor are in memory at
// once.
func encodeBlocks(w io.Writer, n, block int, enc func(dst []byte, from, to int) ([]byte, error)) error {
	blocks := (n + block - 1) / block
	workers := partsOf(blocks)
	type encoded struct {
		b   []byte
		err error
	}
	done := make([]chan encoded, blocks)
	for i := range done {
		done[i] = make(chan encoded, 1)
	}
	free := make(chan []byte, 2*workers) // buffers, and the bound on blocks in flight
	for range cap(free) {
		free <- nil
	}
	next := make(chan int, blocks)
	for i := range blocks {
		next <- i
	}
	close(next)
	stop := make(chan struct{})
	defer close(stop)
	for range workers {
		go func() {
			for {
				// A buffer first, then a block: every block taken has its
				// buffer, so the one written next is always under way.
				var buf []byte
				select {
				case buf = <-free:
				case <-stop:
					return
				}
				select {
				case <-stop: // the writer failed: no more blocks
					return
				default:
				}
				i, ok := <-next
				if !ok {
					return
				}
				buf = buf[:0]
				if i > 0 {
					buf = append(buf, ',')
				}
				b, err := enc(buf, i*block, min((i+1)*block, n))
				done[i] <- encoded{b, err}
			}
		}()
	}
	for i := range blocks {
		e := <-done[i]
		if e.err != nil {
			return e.err
		}
		if _, err := w.Write(e.b); err != nil {
			return err
		}
		free <- e.b[:0]
	}
	return nil
}

// Unmarshal reads what Marshal wrote, or its gzip compression as a store
// keeps it (partnerlink.ReportVersion), decompressed as it is read.
func Unmarshal(b []byte) (*Content, error) {
	var c Content
	if err := unmarshalInto(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// linesOf reads only what Diff compares of a version's content (as
// Unmarshal): its Azure and Power Platform lines. The rest (the
// credentials alone are a third of a large month's content) is skipped.
func linesOf(b []byte) (*Content, error) {
	var lines struct {
		Azure         AzureLines `json:"azure"`
		PowerPlatform []PPLine   `json:"powerPlatform"`
	}
	if err := unmarshalInto(b, &lines); err != nil {
		return nil, err
	}
	return &Content{Azure: lines.Azure, PowerPlatform: lines.PowerPlatform}, nil
}

// unmarshalInto decodes a content's JSON, or its gzip compression, into dst.
func unmarshalInto(b []byte, dst any) error {
	// The lines' count makes room for them at once, for as many as the
	// JSON can hold: its length, or what a gzip stream's last four bytes
	// say (its length modulo 2³², so a stream that claims less than it
	// takes compressed is read without that room).
	size := len(b)
	if gzipped(b) {
		size = 0
		if n := len(b); n >= 4 && int(binary.LittleEndian.Uint32(b[n-4:])) >= n {
			size = int(binary.LittleEndian.Uint32(b[n-4:]))
		}
	}
	room := jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, ls *AzureLines) error {
		return ls.read(dec, max(size/minLineJSON, minCount))
	}))
	if !gzipped(b) {
		return jsonv2.Unmarshal(b, dst, room)
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return jsonv2.UnmarshalRead(r, dst, room)
}

// gzipped reports whether b starts as a gzip stream does (JSON never does).
func gzipped(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// contentHead is the start of a content, decompressed (gzipped).
func contentHead(b []byte, n int) []byte {
	if !gzipped(b) {
		return b[:min(len(b), n)]
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	head := make([]byte, n)
	k, _ := io.ReadFull(r, head)
	return head[:k]
}

// Restatement is what a version changes of the one before.
type Restatement struct {
	Of      int      `json:"of"` // the version restated
	Changes []Change `json:"changes"`
	Totals  []Total  `json:"totals"`
}

// Change is one line whose amounts differ between two versions.
type Change struct {
	Kind string `json:"kind"` // "azure" or "powerPlatform"
	// Key names the line: partner ID, tenant, subscription, service,
	// resource, currency (Azure); partner ID, tenant, environment,
	// resource, metric (Power Platform).
	Key   []string `json:"key"`
	Old   string   `json:"old"` // attributed cost, or the metric's value
	New   string   `json:"new"`
	Delta string   `json:"delta"`
	// The incentive-eligible cost, or the value when it counts for the
	// incentive (Power Platform).
	OldEligible   string `json:"oldEligible,omitempty"`
	NewEligible   string `json:"newEligible,omitempty"`
	DeltaEligible string `json:"deltaEligible,omitempty"`
}

// Total is the sum of the changes' deltas in one currency (or metric):
// of the attributed cost (or value) and of its incentive-eligible part.
type Total struct {
	Unit          string `json:"unit"`
	Delta         string `json:"delta"`
	DeltaEligible string `json:"deltaEligible,omitempty"`
	Lines         int    `json:"lines"`
}

// Diff lists the lines whose amounts differ between two contents, old to
// new, in line order.
func Diff(old, new *Content) ([]Change, error) {
	m := newLineMerge(new.Azure)
	for _, i := range lineOrder(old.Azure) {
		if err := m.old(&old.Azure[i]); err != nil {
			return nil, err
		}
	}
	return m.finish(old.PowerPlatform, new.PowerPlatform)
}

// diffStored is Diff from a version's stored content (gzip or not) to
// new, reading the stored Azure lines one at a time rather than holding
// them beside the new content, which sets a restating close's peak
// (docs/performance.md, "Monthly close"). Lines out of their order, or
// not a table, are read whole and diffed so.
func diffStored(stored []byte, new *Content) ([]Change, error) {
	var r io.Reader = bytes.NewReader(stored)
	if gzipped(stored) {
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = z
	}
	whole := func() ([]Change, error) {
		old, err := linesOf(stored)
		if err != nil {
			return nil, err
		}
		return Diff(old, new)
	}
	dec := jsontext.NewDecoder(r)
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, cmp.Or(err, fmt.Errorf("report content: a JSON %v, not an object", tok.Kind()))
	}
	m := newLineMerge(new.Azure)
	var pp []PPLine
	p := lineParser{texts: map[string]string{}}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		switch name.String() {
		case "azure":
			if dec.PeekKind() != '{' {
				return whole() // lines of an earlier format
			}
			if err := p.eachTableLine(dec, m.old); err == errLineOrder {
				return whole()
			} else if err != nil {
				return nil, err
			}
		case "powerPlatform":
			if err := jsonv2.UnmarshalDecode(dec, &pp); err != nil {
				return nil, err
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return nil, err
			}
		}
	}
	// The content ends there, and so does the stream: reading to its end
	// checks a gzip stream's checksum and length too.
	if _, err := dec.ReadToken(); err != nil { // }
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, cmp.Or(err, errors.New("report content: data after the content"))
	}
	return m.finish(pp, new.PowerPlatform)
}

// lineMerge matches old lines, handed to it in line order, with new
// ones by a merge of the two lists in one order (a version's lines come
// in it: partner, tenant, subscription, resource, currency; then the
// service, which a resource has one of), rather than through a map of
// joined keys: at 661k lines that took 2 s and 300 MB.
type lineMerge struct {
	new   AzureLines
	order []int // new's lines in line order
	j     int   // the next in order
	prev  AzureLine
	any   bool // whether an old line came
	out   []Change
}

// errLineOrder stops a merge handed an old line out of line order.
var errLineOrder = errors.New("report: the lines are not in line order")

func newLineMerge(new AzureLines) *lineMerge {
	return &lineMerge{new: new, order: lineOrder(new)}
}

// old takes the next old line.
func (m *lineMerge) old(a *AzureLine) error {
	if m.any && compareLines(&m.prev, a) > 0 {
		return errLineOrder
	}
	m.prev, m.any = *a, true
	for m.j < len(m.order) {
		b := &m.new[m.order[m.j]]
		c := compareLines(a, b)
		if c < 0 {
			break
		}
		m.j++
		if c == 0 {
			return m.change(a, b)
		}
		if err := m.change(nil, b); err != nil {
			return err
		}
	}
	return m.change(a, nil)
}

// change notes the change from line a to line b (either nil: none).
func (m *lineMerge) change(a, b *AzureLine) error {
	ch, err := azureChange(a, b)
	if ch != nil {
		m.out = append(m.out, *ch)
	}
	return err
}

// finish takes the new lines no old line matched and adds the changes of
// the Power Platform lines.
func (m *lineMerge) finish(oldPP, newPP []PPLine) ([]Change, error) {
	for ; m.j < len(m.order); m.j++ {
		if err := m.change(nil, &m.new[m.order[m.j]]); err != nil {
			return nil, err
		}
	}
	out := m.out
	// Changes in the order of their keys (partner ID, tenant, subscription,
	// service, resource, currency).
	slices.SortFunc(out, func(x, y Change) int { return slices.Compare(x.Key, y.Key) })
	// A Power Platform line's value, and the part that counts for the
	// incentive (all of it or none), old and new.
	keys := []string{}
	pp := map[string]*[4]int64{}
	ppKey := func(l PPLine) string {
		return strings.Join([]string{l.PartnerID, l.TenantID, l.EnvironmentID, l.ResourceID, l.Metric}, "\x00")
	}
	eligible := func(l PPLine) int64 {
		if l.Eligible {
			return l.Value
		}
		return 0
	}
	for _, l := range oldPP {
		pp[ppKey(l)] = &[4]int64{l.Value, 0, eligible(l), 0}
		keys = append(keys, ppKey(l))
	}
	for _, l := range newPP {
		if v := pp[ppKey(l)]; v != nil {
			v[1], v[3] = l.Value, eligible(l)
		} else {
			pp[ppKey(l)] = &[4]int64{0, l.Value, 0, eligible(l)}
			keys = append(keys, ppKey(l))
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := pp[k]
		if v[0] != v[1] || v[2] != v[3] {
			out = append(out, Change{Kind: "powerPlatform", Key: strings.Split(k, "\x00"), Old: fmt.Sprint(v[0]), New: fmt.Sprint(v[1]),
				Delta: fmt.Sprint(v[1] - v[0]), OldEligible: fmt.Sprint(v[2]), NewEligible: fmt.Sprint(v[3]), DeltaEligible: fmt.Sprint(v[3] - v[2])})
		}
	}
	return out, nil
}

// lineOrder returns the indexes of ls in the order compareLines sorts
// them: 0, 1, 2… for a version's lines, which come in it.
func lineOrder(ls AzureLines) []int {
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	if !slices.IsSortedFunc(ls, func(a, b AzureLine) int { return compareLines(&a, &b) }) {
		slices.SortStableFunc(idx, func(a, b int) int { return compareLines(&ls[a], &ls[b]) })
	}
	return idx
}

// compareLines orders credit lines by partner ID, tenant, subscription,
// resource, currency and service.
func compareLines(a, b *AzureLine) int {
	return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.TenantID, b.TenantID),
		strings.Compare(a.SubscriptionID, b.SubscriptionID), strings.Compare(a.ResourceID, b.ResourceID),
		strings.Compare(a.Currency, b.Currency), strings.Compare(a.ServiceName, b.ServiceName))
}

// azureChange is the change from line a to line b of the same key (nil
// for a line a version does not have: its amounts are 0), or nil when the
// amounts are the same.
func azureChange(a, b *AzureLine) (*Change, error) {
	l := a
	if l == nil {
		l = b
	}
	ch := &Change{Kind: "azure", Key: []string{l.PartnerID, l.TenantID, l.SubscriptionID, l.ServiceName, l.ResourceID, l.Currency},
		Old: "0", New: "0", OldEligible: "0", NewEligible: "0"}
	if a != nil {
		ch.Old, ch.OldEligible = a.Attributed, a.Eligible
	}
	if b != nil {
		ch.New, ch.NewEligible = b.Attributed, b.Eligible
	}
	if ch.Old == ch.New && ch.OldEligible == ch.NewEligible {
		return nil, nil
	}
	var err error
	if ch.Delta, err = partnerlink.SubDecimal(ch.New, ch.Old); err != nil {
		return nil, err
	}
	if ch.DeltaEligible, err = partnerlink.SubDecimal(ch.NewEligible, ch.OldEligible); err != nil {
		return nil, err
	}
	if ch.Delta == "0" && ch.DeltaEligible == "0" {
		return nil, nil // the same amounts, written otherwise
	}
	return ch, nil
}

// Totals sums the deltas of changes per currency (Azure) or metric (Power
// Platform).
func Totals(changes []Change) []Total {
	by := map[string]*Total{}
	for _, c := range changes {
		unit := c.Key[len(c.Key)-1]
		t := by[unit]
		if t == nil {
			t = &Total{Unit: unit, Delta: "0", DeltaEligible: "0"}
			by[unit] = t
		}
		if d, err := partnerlink.AddDecimal(t.Delta, c.Delta); err == nil {
			t.Delta = d
		}
		if d, err := partnerlink.AddDecimal(t.DeltaEligible, cmp.Or(c.DeltaEligible, "0")); err == nil {
			t.DeltaEligible = d
		}
		t.Lines++
	}
	out := []Total{}
	for _, t := range by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Total) int { return strings.Compare(a.Unit, b.Unit) })
	return out
}

// RestatementSummary words a version's restatement for a listing: "-" for
// a first version, else the lines changed and the totals per unit.
func RestatementSummary(b []byte) (string, error) {
	if len(b) == 0 {
		return "-", nil
	}
	var r Restatement
	if err := json.Unmarshal(b, &r); err != nil {
		return "", err
	}
	s := fmt.Sprintf("%d lines of version %d", len(r.Changes), r.Of)
	for _, t := range r.Totals {
		s += fmt.Sprintf("; %s %s", t.Unit, t.Delta)
		if t.DeltaEligible != "" && t.DeltaEligible != t.Delta {
			s += fmt.Sprintf(" (eligible %s)", t.DeltaEligible)
		}
	}
	return s, nil
}

// Due lists the months a scheduled pass closes at now (docs/rules.md#monthly-close,
// "Scheduled closes"): the previous month from its close day, and every
// month of the last 12 that has a version already, so that late usage and
// history restate it.
func (s *Service) Due(ctx context.Context) ([]partnerlink.Month, error) {
	now := s.now()
	current := partnerlink.MonthOf(now)
	var out []partnerlink.Month
	for m := current - 12; m < current; m++ {
		if _, err := s.Store.ReportVersion(ctx, m.String(), 0); err == nil {
			out = append(out, m)
			continue
		} else if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			return nil, err
		}
		if m == current-1 && !now.Before(s.OpensOn(m)) {
			out = append(out, m)
		}
	}
	return out, nil
}

// CheckCloseDay refuses a close day that not every month has.
func CheckCloseDay(day int) error {
	if day < 1 || day > 28 {
		return partnerlink.Errorf(partnerlink.EINVALID, "--close-day %d: expected a day from 1 to 28 (one every month has)", day)
	}
	return nil
}

// Recipients are the tenants told of a new version: every customer tenant
// credited in the month, and the home tenants of every partner
// organization credited (docs/rules.md#monthly-close).
func (c *Content) Recipients() []string {
	homes := map[string][]string{}
	org := map[string]string{}
	for _, p := range c.Partners {
		homes[p.ID] = p.HomeTenantIDs
		org[p.ID] = cmp.Or(p.GlobalID, p.ID)
	}
	set := map[string]bool{}
	add := func(partnerID, tenantID string) {
		set[tenantID] = true
		for _, id := range []string{partnerID, org[partnerID]} {
			for _, h := range homes[id] {
				set[h] = true
			}
		}
	}
	for _, l := range c.Azure {
		add(l.PartnerID, l.TenantID)
	}
	for _, l := range c.PowerPlatform {
		add(l.PartnerID, l.TenantID)
	}
	var out []string
	for t := range set {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

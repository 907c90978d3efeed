package powerplatform

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// ActivityKind is what a user did on a resource on a day (docs/api.md#activity-csv).
type ActivityKind string

const (
	ActivityUse            ActivityKind = "Use"
	ActivityCreate         ActivityKind = "Create"
	ActivityEdit           ActivityKind = "Edit"
	ActivityPublish        ActivityKind = "Publish"
	ActivityOwnerChange    ActivityKind = "OwnerChange"
	ActivitySolutionImport ActivityKind = "SolutionImport"
)

// Activity flags kept per (resource, month, user).
const (
	flagUse   uint8 = 1 << iota // a Use row: counts for MAU
	flagBuild                   // Create, Edit or Publish: the work credit-at-risk looks for
	flagOther                   // OwnerChange or SolutionImport
)

func activityFlag(s string) (uint8, bool) {
	switch ActivityKind(s) {
	case ActivityUse:
		return flagUse, true
	case ActivityCreate, ActivityEdit, ActivityPublish:
		return flagBuild, true
	case ActivityOwnerChange, ActivitySolutionImport:
		return flagOther, true
	}
	return 0, false
}

// Event is one activity row: UserID did Activity on ResourceID on Date,
// which counts as happening at 00:00Z of that day.
type Event struct {
	Date       time.Time
	TenantID   string
	ResourceID string
	UserID     string
	Activity   ActivityKind
}

// cell is what is kept of one user's activity on one resource in one month:
// the flags of the activities seen and the last day of the month with any.
type cell struct {
	lastDay uint8
	flags   uint8
}

type guid = partnerlink.GUID

// actResource is a resource seen in activity or profile rows.
type actResource struct {
	id       string // casing of the first row
	tenant   guid
	rows     int64
	where    string // "file line N" of the first row, for tenant mismatches
	profiles map[Month]profile
}

type profile struct {
	count int64
	where string
}

// Activity accumulates activity rows and unified-profile counts (docs/api.md#activity-csv). Its memory grows with the distinct (resource, month, user) triples
// and the distinct resources and users, not with the rows: ids are interned
// to integers, and each (resource, month) pair has its own small map from
// user index to a 2-byte cell: an 8-byte slot per triple, where one map
// keyed by the whole triple would take 16.
//
// After a read error the Activity holds part of the file and should be
// discarded. An Activity is not safe for concurrent writes; once filled, it
// and a Model may be read from many goroutines.
type Activity struct {
	resIndex  map[string]uint32 // lower-cased resource id → index
	resources []actResource
	userIndex map[guid]uint32
	// resMonth interns (resource, month) pairs; per pair, cells holds each
	// user's activity, and mau and active count the users with a Use row and
	// with any row.
	resMonth map[uint64]uint32
	cells    []map[uint32]cell
	mau      []uint32
	active   []uint32
	minMonth Month
	rows     int64
	profRows int64
}

// NewActivity returns an empty Activity.
func NewActivity() *Activity {
	return &Activity{
		resIndex:  map[string]uint32{},
		userIndex: map[guid]uint32{},
		resMonth:  map[uint64]uint32{},
	}
}

// Rows returns how many activity rows were added.
func (a *Activity) Rows() int64 { return a.rows }

// Add adds one activity event.
func (a *Activity) Add(e Event) error {
	if e.Date.IsZero() {
		return partnerlink.Errorf(partnerlink.EINVALID, "activity on %s has no date", e.ResourceID)
	}
	d := e.Date.UTC()
	flag, ok := activityFlag(string(e.Activity))
	if !ok {
		return partnerlink.Errorf(partnerlink.EINVALID, "%q is not an activity; accepted: Use, Create, Edit, Publish, OwnerChange, SolutionImport", e.Activity)
	}
	tenant, ok := parseGUIDBytes(e.TenantID)
	if !ok {
		return partnerlink.Errorf(partnerlink.EINVALID, "tenant id %q is not a GUID", e.TenantID)
	}
	user, ok := parseGUIDBytes(e.UserID)
	if !ok {
		return partnerlink.Errorf(partnerlink.EINVALID, "user id %q is not a GUID", e.UserID)
	}
	if e.ResourceID == "" {
		return partnerlink.Errorf(partnerlink.EINVALID, "activity has no resource id")
	}
	ri, err := a.resource(e.ResourceID, tenant, func() string { return "the event of " + d.Format(time.DateOnly) })
	if err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s", err)
	}
	a.addIndexed(partnerlink.MonthOf(d), uint8(d.Day()), ri, user, flag)
	return nil
}

// resource returns the index of resource id, interning it, and checks that
// it stays in one tenant.
func (a *Activity) resource(id string, tenant guid, where func() string) (uint32, error) {
	i, ok := a.resIndex[id]
	if !ok {
		// Lower-case only on a miss of the exact spelling, and index the
		// exact spelling too: rows repeat an id in one casing, so the common
		// path is one lookup without allocating.
		lower := key(id)
		i, ok = a.resIndex[lower]
		if !ok {
			i = uint32(len(a.resources))
			a.resources = append(a.resources, actResource{id: id, tenant: tenant, where: where()})
			a.resIndex[lower] = i
		}
		a.resIndex[strings.Clone(id)] = i
	}
	r := &a.resources[i]
	if r.tenant != tenant {
		return 0, fmt.Errorf("resource %s is in tenant %s at %s, not in tenant %s; a resource belongs to one tenant",
			r.id, formatGUID(r.tenant), r.where, formatGUID(tenant))
	}
	return i, nil
}

func (a *Activity) addIndexed(m Month, day uint8, ri uint32, user guid, flag uint8) {
	a.rows++
	a.resources[ri].rows++
	if a.rows == 1 || m < a.minMonth {
		a.minMonth = m
	}
	ui, ok := a.userIndex[user]
	if !ok {
		ui = uint32(len(a.userIndex))
		a.userIndex[user] = ui
	}
	rmKey := uint64(ri)<<32 | uint64(uint32(m))
	rm, ok := a.resMonth[rmKey]
	if !ok {
		rm = uint32(len(a.mau))
		a.resMonth[rmKey] = rm
		a.cells = append(a.cells, map[uint32]cell{})
		a.mau = append(a.mau, 0)
		a.active = append(a.active, 0)
	}
	users := a.cells[rm]
	c, seen := users[ui]
	if !seen {
		a.active[rm]++
	}
	if flag == flagUse && c.flags&flagUse == 0 {
		a.mau[rm]++
	}
	c.flags |= flag
	if day > c.lastDay {
		c.lastDay = day
	}
	users[ui] = c
}

// lookup returns the indexes of a resource and a user, when seen.
func (a *Activity) lookup(resID, userID string) (ri, ui uint32, ok bool) {
	ri, ok = a.resIndex[key(resID)]
	if !ok {
		return 0, 0, false
	}
	g, ok := parseGUIDBytes(userID)
	if !ok {
		return 0, 0, false
	}
	ui, ok = a.userIndex[g]
	return ri, ui, ok
}

// cellOf returns the activity of user ui on resource ri in month m.
func (a *Activity) cellOf(ri uint32, m Month, ui uint32) (cell, bool) {
	rm, ok := a.resMonth[uint64(ri)<<32|uint64(uint32(m))]
	if !ok {
		return cell{}, false
	}
	c, ok := a.cells[rm][ui]
	return c, ok
}

// userCell returns the activity of userID on resID in m.
func (a *Activity) userCell(resID, userID string, m Month) (cell, bool) {
	if a == nil {
		return cell{}, false
	}
	ri, ui, ok := a.lookup(resID, userID)
	if !ok {
		return cell{}, false
	}
	return a.cellOf(ri, m, ui)
}

// lastActivity returns the instant of userID's latest activity row on
// resID in month upTo or before it.
func (a *Activity) lastActivity(resID, userID string, upTo Month) (time.Time, bool) {
	if a == nil || a.rows == 0 {
		return time.Time{}, false
	}
	ri, ui, ok := a.lookup(resID, userID)
	if !ok {
		return time.Time{}, false
	}
	for m := upTo; m >= a.minMonth; m-- {
		if c, ok := a.cellOf(ri, m, ui); ok {
			return m.Start().AddDate(0, 0, int(c.lastDay)-1), true
		}
	}
	return time.Time{}, false
}

// MAU returns the distinct users with a Use row on resID in m.
func (a *Activity) MAU(resID string, m Month) int64 {
	n, _ := a.counts(resID, m)
	return n
}

// ActiveUsers returns the distinct users with any row on resID in m.
func (a *Activity) ActiveUsers(resID string, m Month) int64 {
	_, n := a.counts(resID, m)
	return n
}

func (a *Activity) counts(resID string, m Month) (mau, active int64) {
	if a == nil {
		return 0, 0
	}
	ri, ok := a.resIndex[key(resID)]
	if !ok {
		return 0, 0
	}
	rm, ok := a.resMonth[uint64(ri)<<32|uint64(uint32(m))]
	if !ok {
		return 0, 0
	}
	return int64(a.mau[rm]), int64(a.active[rm])
}

// UnifiedProfiles returns the reported unified profiles of Customer
// Insights instance resID in m, and whether a row reported it.
func (a *Activity) UnifiedProfiles(resID string, m Month) (int64, bool) {
	if a == nil {
		return 0, false
	}
	ri, ok := a.resIndex[key(resID)]
	if !ok {
		return 0, false
	}
	p, ok := a.resources[ri].profiles[m]
	return p.count, ok
}

// ReadCSV reads one activity file (docs/api.md#activity-csv) (plain or gzip), telling activity
// (Date,TenantId,ResourceId,UserId,Activity) from unified profiles
// (Month,TenantId,ResourceId,UnifiedProfiles) by its header. Column names
// are matched without regard to case, in any order; other columns are
// ignored. name is used in error messages.
func (a *Activity) ReadCSV(name string, r io.Reader) error {
	// Exports are often gzipped; the magic number tells, whatever the name.
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return csvError(name, nil, nil, io.ErrUnexpectedEOF) // cut inside the gzip header
		}
		if err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s: not a readable gzip file: %v", name, err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the file is empty; expected a header Date,TenantId,ResourceId,UserId,Activity or Month,TenantId,ResourceId,UnifiedProfiles", name)
	}
	if err != nil {
		return csvError(name, nil, nil, err)
	}
	// The reader reuses its record: keep the header apart, for messages.
	header = slices.Clone(header)
	cols := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		cols[strings.ToLower(strings.TrimSpace(h))] = i
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := cols[strings.ToLower(n)]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("Date", "TenantId", "ResourceId", "UserId", "Activity"):
		return a.readActivity(name, cr, header, cols)
	case has("Month", "TenantId", "ResourceId", "UnifiedProfiles"):
		return a.readProfiles(name, cr, header, cols)
	}
	return partnerlink.Errorf(partnerlink.EINVALID, "%s line 1: the header %q is neither an activity file (Date,TenantId,ResourceId,UserId,Activity) nor a unified-profiles file (Month,TenantId,ResourceId,UnifiedProfiles)",
		name, strings.Join(header, ","))
}

// csvError words an error of the CSV reader: a row with too few or too
// many fields says how many it has and which the header names; a quote
// error names the line where the record starts; a gzip stream cut short
// or corrupt is an error of the file, never the end of a shorter file
// (docs/rules.md, "Usage input"). rec is the record read with the error.
func csvError(name string, header, rec []string, err error) error {
	var pe *csv.ParseError
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
		cols := strings.TrimPrefix(strings.Join(header, ","), "\ufeff")
		return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: has %d fields, expected %d (%s)", name, pe.StartLine, len(rec), len(header), cols)
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote):
		return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: unclosed quote, or a closing quote followed by other text, in the record that starts on this line; quote whole fields and double quotes inside them", name, pe.StartLine)
	case errors.As(err, &pe):
		return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: %v", name, pe.Line, pe.Err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one", name)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the gzip stream is corrupt (%v); the file is refused whole", name, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func fieldError(name string, line int, field, value, accepted string) error {
	return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: field %s: %q is not valid; %s", name, line, field, value, accepted)
}

func (a *Activity) readActivity(name string, cr *csv.Reader, header []string, cols map[string]int) error {
	iDate, iTenant, iRes, iUser, iAct := cols["date"], cols["tenantid"], cols["resourceid"], cols["userid"], cols["activity"]
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(name, header, rec, err)
		}
		line, _ := cr.FieldPos(0)
		m, day, ok := parseDate(rec[iDate])
		if !ok {
			return fieldError(name, line, "Date", rec[iDate], "expected a day YYYY-MM-DD such as 2026-03-01")
		}
		tenant, ok := parseGUIDBytes(rec[iTenant])
		if !ok {
			return fieldError(name, line, "TenantId", rec[iTenant], "expected a GUID such as 0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60")
		}
		if rec[iRes] == "" {
			return fieldError(name, line, "ResourceId", rec[iRes], "expected the id of a Power Platform resource")
		}
		user, ok := parseGUIDBytes(rec[iUser])
		if !ok {
			return fieldError(name, line, "UserId", rec[iUser], "expected the user's object id, a GUID such as 0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60")
		}
		flag, ok := activityFlag(rec[iAct])
		if !ok {
			return fieldError(name, line, "Activity", rec[iAct], "accepted: Use, Create, Edit, Publish, OwnerChange, SolutionImport")
		}
		ri, err := a.resource(rec[iRes], tenant, func() string { return fmt.Sprintf("%s line %d", name, line) })
		if err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: field TenantId: %v", name, line, err)
		}
		a.addIndexed(m, day, ri, user, flag)
	}
}

func (a *Activity) readProfiles(name string, cr *csv.Reader, header []string, cols map[string]int) error {
	iMonth, iTenant, iRes, iCount := cols["month"], cols["tenantid"], cols["resourceid"], cols["unifiedprofiles"]
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(name, header, rec, err)
		}
		line, _ := cr.FieldPos(0)
		m, err := partnerlink.ParseMonth(rec[iMonth])
		if err != nil {
			return fieldError(name, line, "Month", rec[iMonth], "expected a month YYYY-MM such as 2026-03")
		}
		tenant, ok := parseGUIDBytes(rec[iTenant])
		if !ok {
			return fieldError(name, line, "TenantId", rec[iTenant], "expected a GUID such as 0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60")
		}
		if rec[iRes] == "" {
			return fieldError(name, line, "ResourceId", rec[iRes], "expected the id of a Customer Insights instance")
		}
		n, err := strconv.ParseInt(rec[iCount], 10, 64)
		if err != nil || n < 0 {
			return fieldError(name, line, "UnifiedProfiles", rec[iCount], "expected a whole number, 0 or more")
		}
		where := fmt.Sprintf("%s line %d", name, line)
		ri, err := a.resource(rec[iRes], tenant, func() string { return where })
		if err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s: field TenantId: %v", where, err)
		}
		r := &a.resources[ri]
		if prev, dup := r.profiles[m]; dup {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s: instance %s already has unified profiles for %s at %s; give one row per instance and month", where, r.id, m, prev.where)
		}
		if r.profiles == nil {
			r.profiles = map[Month]profile{}
		}
		r.profiles[m] = profile{count: n, where: where}
		a.profRows++
	}
}

// parseDate reads YYYY-MM-DD without allocating.
func parseDate(s string) (Month, uint8, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 {
		return 0, 0, false
	}
	m := Month(y*12 + mo - 1)
	if d > m.End().AddDate(0, 0, -1).Day() {
		return 0, 0, false
	}
	return m, uint8(d), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseGUIDBytes decodes a GUID; it runs once or twice per activity row.
func parseGUIDBytes(s string) (guid, bool) { return partnerlink.ParseGUIDBytes(s) }

func formatGUID(g guid) string { return g.String() }

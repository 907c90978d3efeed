package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Months is the months from first to last, both included; EINVALID when
// last is before first.
func Months(first, last string) ([]partnerlink.Month, error) {
	from, err := partnerlink.ParseMonth(first)
	if err != nil {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--month: %v", err)
	}
	to := from
	if last != "" {
		if to, err = partnerlink.ParseMonth(last); err != nil {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "--to-month: %v", err)
		}
	}
	if to < from {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--to-month %s is before --month %s", to, from)
	}
	var out []partnerlink.Month
	for m := from; m <= to; m++ {
		out = append(out, m)
	}
	return out, nil
}

// Published is one month's version with its content read.
type Published struct {
	Version partnerlink.ReportVersion // without its content's bytes and restatement
	Content *Content                  // shared with other readers when the Service has a Cache: read only
}

// Read returns the given version of each month (the latest when version
// is 0; a version number needs a single month). A month that is not
// closed, or a version that does not exist, is ENOTFOUND.
func (s *Service) Read(ctx context.Context, months []partnerlink.Month, version int) ([]Published, error) {
	if version < 0 {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--version %d: versions are numbered from 1", version)
	}
	if version > 0 && len(months) > 1 {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--version names a version of one month; leave out --to-month, or --version to read the latest of each month")
	}
	var out []Published
	for _, m := range months {
		p, err := s.read(ctx, m, version)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// loadTimeout bounds reading a version's content for the cache (about a
// second at 10M usage rows), whoever waits for it.
const loadTimeout = 2 * time.Minute

// read returns one version of month: from the store, or with a Cache,
// from the cache when it holds that version.
func (s *Service) read(ctx context.Context, month partnerlink.Month, version int) (Published, error) {
	if s.Cache == nil {
		v, err := s.Store.ReportVersion(ctx, month.String(), version)
		if err != nil {
			return Published{}, err
		}
		c, err := Unmarshal(v.Content)
		v.Content, v.Restatement = nil, nil
		return Published{Version: *v, Content: c}, err
	}
	// Which version it is, then its content if the cache lacks it.
	v, err := s.Store.ReportVersionInfo(ctx, month.String(), version)
	if err != nil {
		return Published{}, err
	}
	v.Content, v.Restatement = nil, nil
	c, err := s.Cache.content(ctx, v, func() (*Content, error) {
		// Other readers may wait for this load: it goes on when this
		// caller goes away, within loadTimeout.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		full, err := s.Store.ReportVersion(lctx, v.Month, v.Version)
		if err != nil {
			return nil, err
		}
		if full.Hash != v.Hash {
			return nil, fmt.Errorf("report: version %d of %s changed its hash from %s to %s", v.Version, v.Month, v.Hash, full.Hash)
		}
		return Unmarshal(full.Content)
	})
	return Published{Version: *v, Content: c}, err
}

// Organization returns a partner ID with, for a global ID, its location
// IDs, as registered when the month closed; ENOTFOUND for an ID the month
// does not know.
func (c *Content) Organization(partnerID string) ([]string, error) {
	if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(c.Partners, func(p Partner) bool { return p.ID == partnerID }) {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "partner ID %s is not registered (in the reports of %s)", partnerID, c.Month)
	}
	ids := []string{partnerID}
	for _, p := range c.Partners {
		if p.GlobalID == partnerID {
			ids = append(ids, p.ID)
		}
	}
	return ids, nil
}

// HasTenant reports whether the month knows tenantID; ENOTFOUND otherwise.
func (c *Content) HasTenant(tenantID string) error {
	if !slices.ContainsFunc(c.Tenants, func(t Tenant) bool { return t.ID == tenantID }) {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "tenant %s is not known (in the reports of %s)", tenantID, c.Month)
	}
	return nil
}

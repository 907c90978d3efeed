package storetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// testReportVersions: a month's versions are published once per content
// hash, numbered in order, with the restatement made in the publishing
// transaction against the latest version; concurrent publishers of one
// content publish one version (docs/rules.md#monthly-close).
func testReportVersions(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	at := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	noRestate := func(*partnerlink.ReportVersion) ([]byte, error) {
		t.Error("restate called for a first version")
		return nil, nil
	}
	var wg sync.WaitGroup
	published := make(chan bool, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.PublishReportVersion(ctx, partnerlink.ReportVersion{Month: "2026-03", PublishedAt: at, Hash: "h1", Content: []byte("one")}, noRestate)
			if err != nil {
				t.Error(err)
			}
			published <- ok
		}()
	}
	wg.Wait()
	close(published)
	n := 0
	for ok := range published {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of 8 concurrent publishers of one content published; want 1", n)
	}
	var seen string
	v2, ok, err := s.PublishReportVersion(ctx, partnerlink.ReportVersion{Month: "2026-03", PublishedAt: at.Add(time.Hour), Hash: "h2", Content: []byte("two"),
		Notify: []string{TenantA, TenantB}},
		func(latest *partnerlink.ReportVersion) ([]byte, error) {
			seen = content(t, latest)
			return []byte(`{"of":1}`), nil
		})
	must(t, err)
	if !ok || v2.Version != 2 || seen != "one" {
		t.Errorf("second content: published %v as version %d, restated against %q", ok, v2.Version, seen)
	}
	latest, err := s.ReportVersion(ctx, "2026-03", 0)
	must(t, err)
	first, err := s.ReportVersion(ctx, "2026-03", 1)
	must(t, err)
	if latest.Version != 2 || content(t, latest) != "two" || string(latest.Restatement) != `{"of":1}` || !latest.PublishedAt.Equal(at.Add(time.Hour)) ||
		first.Hash != "h1" || content(t, first) != "one" || len(first.Restatement) != 0 {
		t.Errorf("read back: latest %+v, first %+v", latest, first)
	}
	_, err = s.ReportVersion(ctx, "2026-03", 3)
	wantCode(t, "a version that does not exist", err, partnerlink.ENOTFOUND)
	_, err = s.ReportVersion(ctx, "2026-02", 0)
	wantCode(t, "a month that is not closed", err, partnerlink.ENOTFOUND)
	// The same without the content (what a reader keeping contents asks).
	info, err := s.ReportVersionInfo(ctx, "2026-03", 0)
	must(t, err)
	if info.Version != 2 || info.Hash != "h2" || len(info.Content) != 0 || !info.PublishedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("latest version's info: %+v", info)
	}
	if info, err = s.ReportVersionInfo(ctx, "2026-03", 1); err != nil || info.Version != 1 || info.Hash != "h1" || len(info.Content) != 0 {
		t.Errorf("version 1's info: %+v, %v", info, err)
	}
	_, err = s.ReportVersionInfo(ctx, "2026-03", 3)
	wantCode(t, "the info of a version that does not exist", err, partnerlink.ENOTFOUND)
	_, err = s.ReportVersionInfo(ctx, "2026-02", 0)
	wantCode(t, "the info of a month that is not closed", err, partnerlink.ENOTFOUND)
	// The new version is queued to each tenant told of it, with event ids
	// below the link events'.
	for i, tenant := range []string{TenantA, TenantB} {
		ns, err := s.Notifications(ctx, tenant, 10)
		must(t, err)
		want := fmt.Sprintf(`{"type":"partnerlink.report.published","eventId":%d,"tenantId":"%s","month":"2026-03","version":2,"sha256":"h2","at":"2026-04-10T01:00:00Z"}`, -1-i, tenant)
		if len(ns) != 1 || ns[0].EventID != int64(-1-i) || string(ns[0].Payload) != want {
			t.Errorf("notifications of %s = %+v; want one with %s", tenant, ns, want)
		}
	}
	// "" lists every tenant's (the close reads them at once).
	all, err := s.Notifications(ctx, "", 0)
	must(t, err)
	tenants := map[string]bool{}
	for _, n := range all {
		tenants[n.TenantID] = true
	}
	if len(all) < 2 || !tenants[strings.ToLower(TenantA)] || !tenants[strings.ToLower(TenantB)] {
		t.Errorf("every tenant's notifications = %+v", all)
	}
	vs, err := s.ReportVersions(ctx, "")
	must(t, err)
	if len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 || len(vs[0].Content) != 0 {
		t.Errorf("versions = %+v", vs)
	}
	// Content given gzip-compressed (as a close gives it) is kept as given.
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write([]byte("three"))
	must(t, z.Close())
	_, ok, err = s.PublishReportVersion(ctx, partnerlink.ReportVersion{Month: "2026-03", PublishedAt: at.Add(2 * time.Hour), Hash: "h3", Content: gz.Bytes()},
		func(*partnerlink.ReportVersion) ([]byte, error) { return []byte(`{"of":2}`), nil })
	must(t, err)
	v3, err := s.ReportVersion(ctx, "2026-03", 3)
	must(t, err)
	if !ok || !bytes.Equal(v3.Content, gz.Bytes()) || content(t, v3) != "three" {
		t.Errorf("compressed content: published %v, read back %q", ok, content(t, v3))
	}
}

// content is a version's content as published: a store may return it
// gzip-compressed (partnerlink.ReportVersion).
func content(t *testing.T, v *partnerlink.ReportVersion) string {
	t.Helper()
	b := v.Content
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return string(b)
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	must(t, err)
	out, err := io.ReadAll(r)
	must(t, err)
	return string(out)
}

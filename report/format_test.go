package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"regexp"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/report"
)

// docs/rules.md#monthly-close, "Versions": a version published before the
// credit lines were stored as a table with its count (its lines are
// objects, arrays of all their fields, or a table without the count) reads
// back as the same content, so its reports keep
// their bytes; and a close whose content that version already holds
// publishes nothing.
func TestEarlierContentFormat(t *testing.T) {
	for _, format := range []string{"objects", "arrays", "table without count"} {
		t.Run(format, func(t *testing.T) { testEarlierFormat(t, format) })
	}
}

func testEarlierFormat(t *testing.T, format string) {
	ctx := context.Background()
	dataDir, db, now, month, _ := demoMonth(t)
	svc := &report.Service{Store: db, DataDir: dataDir, Now: func() time.Time { return now }}
	in, err := svc.Inputs(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	c, err := report.Build(*in)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Azure) == 0 {
		t.Fatal("the demo month has no credit lines")
	}
	// The codec writes the lines as objects, as versions did before
	// December 2026; those of December 2026 hold arrays of all the fields.
	earlier, err := jsonv2.Marshal(c, jsonv2.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(earlier, []byte(`"azure":[{"partnerId":`)) {
		t.Fatalf("not the earliest format: %.200s", earlier)
	}
	if format == "arrays" {
		rest := *c
		rest.Azure = report.AzureLines{}
		head, err := jsonv2.Marshal(&rest, jsonv2.Deterministic(true))
		if err != nil {
			t.Fatal(err)
		}
		var arrays [][]any
		for _, l := range c.Azure {
			arrays = append(arrays, []any{l.PartnerID, l.TenantID, l.SubscriptionID, l.ServiceName, l.ResourceID, l.Currency,
				l.Attributed, l.Eligible, l.USD, l.USDRows, l.UsageRows, l.DuplicateForPGA})
		}
		lines, err := jsonv2.Marshal(arrays)
		if err != nil {
			t.Fatal(err)
		}
		earlier = bytes.Replace(head, []byte(`"azure":[]`), append([]byte(`"azure":`), lines...), 1)
	}
	now2, err := report.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if format == "table without count" {
		// As main wrote it for an afternoon of December 2026.
		earlier = regexp.MustCompile(`"azure":\{"count":[0-9]+,`).ReplaceAll(now2, []byte(`"azure":{`))
		if bytes.Equal(earlier, now2) {
			t.Fatal("no count to take out")
		}
	}
	if !bytes.Contains(now2, []byte(`"azure":{"count":`)) || (format == "objects" && len(now2) >= len(earlier)) {
		t.Errorf("the lines are not a table: %.200s", now2)
	}
	a, errA := report.Unmarshal(earlier)
	b, errB := report.Unmarshal(now2)
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a.Azure, c.Azure) {
		t.Fatalf("the two formats read back differently (%v, %v)", errA, errB)
	}

	// Version 1 in the earlier format, then a close of the same month.
	sum := sha256.Sum256(earlier)
	v1 := partnerlink.ReportVersion{Month: month.String(), PublishedAt: now, Hash: hex.EncodeToString(sum[:]), Content: earlier}
	if _, published, err := db.PublishReportVersion(ctx, v1, nil); err != nil || !published {
		t.Fatalf("version 1: %v %v", published, err)
	}
	closed, err := svc.Close(ctx, month, true)
	if err != nil {
		t.Fatal(err)
	}
	if closed.Published || closed.Version.Version != 1 || closed.Version.Hash != v1.Hash || len(closed.Changes) != 0 {
		t.Errorf("the close of unchanged content: published %v, version %d, %d changes", closed.Published, closed.Version.Version, len(closed.Changes))
	}
	got, err := db.ReportVersion(ctx, month.String(), 0)
	if err != nil || got.Version != 1 {
		t.Fatalf("the latest version is %d (%v)", got.Version, err)
	}
	if back, err := report.Unmarshal(got.Content); err != nil || !reflect.DeepEqual(back, a) {
		t.Errorf("version 1 reads back otherwise (%v)", err)
	}
}

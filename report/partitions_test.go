package report_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// randomUsage writes n random rows over subs (and a subscription nobody
// knows): three months, two categories, two currencies, resource ids in
// random spellings, and the USD column when usd.
func randomUsage(rng *rand.Rand, subs []string, n int, usd bool) []byte {
	var b bytes.Buffer
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost")
	if usd {
		b.WriteString(",x_EffectiveCostInUsd")
	}
	b.WriteByte('\n')
	all := append(subs, "0dd0dd00-0000-4000-8000-000000000001")
	for range n {
		sub := all[rng.IntN(len(all))]
		day := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(45))
		res := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Web/sites/site%d", sub, []string{"web", "payments", "rg"}[rng.IntN(3)], rng.IntN(6))
		if rng.IntN(4) == 0 {
			res = strings.ToUpper(res[:30]) + res[30:]
		}
		if rng.IntN(20) == 0 {
			res = ""
		}
		cat := "Usage"
		if rng.IntN(10) == 0 {
			cat = "Purchase"
		}
		cur := []string{"EUR", "USD"}[rng.IntN(2)]
		cost := fmt.Sprintf("%d.%03d", rng.IntN(50), rng.IntN(1000))
		fmt.Fprintf(&b, "%s,%s,%s,%s,/subscriptions/%s,Svc%d,%s,%s,%s", day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339),
			cat, res, sub, rng.IntN(3), cur, cost, cost)
		if usd {
			fmt.Fprintf(&b, ",%s", cost)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// docs/scale.md: a close run as partitions (any number of buckets, on the
// partitioned Parquet store) publishes the same bytes as one pass over the
// whole files.
func TestPartitionedCloseEqualsOnePass(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	doc := demo.World(demo.NewCredentials())
	subs := []string{demo.FabrikamSub, demo.WoodgroveSub}
	mg := "fabrikam-prod"
	for i := range 30 {
		id := fmt.Sprintf("f1f1f1f1-0000-4000-8000-%012d", i)
		doc.Subscriptions = append(doc.Subscriptions, world.Subscription{SubscriptionID: id, TenantID: demo.FabrikamTenant,
			Name: fmt.Sprintf("extra-%d", i), ManagementGroup: &mg})
		subs = append(subs, id)
	}
	at := func(s string) *time.Time { t, _ := time.Parse(time.RFC3339, s); return &t }
	doc.Links = append(doc.Links,
		world.Link{TenantID: demo.FabrikamTenant, ObjectID: demo.BobID, PartnerID: demo.NorwayPartnerID, From: at("2026-11-10T00:00:00Z")},
		world.Link{TenantID: demo.WoodgroveTenant, ObjectID: demo.AliceInWoodgrove, PartnerID: demo.GermanyPartnerID, From: at("2026-01-01T00:00:00Z")})
	db := storeWith(t, dataDir, doc)
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	for i, usd := range []bool{false, true, false} {
		name := fmt.Sprintf("usage-%d.csv", i)
		if _, err := usage.Import(ctx, db, dataDir, usage.FOCUS, name, bytes.NewReader(randomUsage(rng, subs, 3000, usd)), now, nil); err != nil {
			t.Fatal(err)
		}
	}
	month := partnerlink.MonthOf(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	ims, err := db.UsageImports(ctx, usage.FOCUS.Name, []string{month.String()})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string // in the order a close reads them
	for _, im := range ims {
		paths = append(paths, filepath.Join(dataDir, im.Path))
	}

	// One pass over the whole files, the way closes ran before partitions.
	exported, err := db.ExportWorld(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in, err := report.Attribute(exported, month, 2, func(run *attribution.Run) error {
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			err = run.Scan(f, p)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if in.Azure.Len() == 0 {
		t.Fatalf("the one pass credited nothing: the test data is wrong: %+v", in.Azure.Summary)
	}
	if in.WhatIfResult == nil || in.WhatIfResult.Len() < 2 {
		t.Fatalf("the one pass credited no unlinked credentials: the test data is wrong")
	}
	for _, buckets := range []int{1, 4, 16} {
		svc := &report.Service{Store: db, DataDir: dataDir, Now: func() time.Time { return now }, Workers: 2, Buckets: buckets}
		in2, err := svc.Inputs(ctx, month)
		if err != nil {
			t.Fatal(err)
		}
		if in2.Azure.Summary.Read.Rows != in.Azure.Summary.Read.Rows || in2.Azure.Summary.Credited.Rows != in.Azure.Summary.Credited.Rows {
			t.Errorf("%d buckets: rows read %d credited %d, want %d %d", buckets, in2.Azure.Summary.Read.Rows, in2.Azure.Summary.Credited.Rows,
				in.Azure.Summary.Read.Rows, in.Azure.Summary.Credited.Rows)
		}
		var want, got bytes.Buffer
		if err := in.Azure.WriteCSV(&want); err != nil {
			t.Fatal(err)
		}
		if err := in2.Azure.WriteCSV(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			wl, gl := strings.Split(want.String(), "\n"), strings.Split(got.String(), "\n")
			for i := range min(len(wl), len(gl)) {
				if wl[i] != gl[i] {
					t.Errorf("%d buckets: the credits differ from one pass's (%d and %d lines); line %d:\n%s\n%s", buckets, len(wl), len(gl), i, wl[i], gl[i])
					break
				}
			}
		}
		if (in.WhatIfResult == nil) != (in2.WhatIfResult == nil) {
			t.Fatalf("%d buckets: what-if result presence differs", buckets)
		}
		if in.WhatIfResult != nil {
			want.Reset()
			got.Reset()
			in.WhatIfResult.WriteCSV(&want)
			in2.WhatIfResult.WriteCSV(&got)
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Errorf("%d buckets: the unlinked credits differ from one pass's", buckets)
			}
		}
	}
}

// docs/scale.md: a part of the usage store that cannot be read fails the
// close, naming the part, and publishes nothing.
func TestCorruptPartFailsTheClose(t *testing.T) {
	ctx := context.Background()
	dataDir, db, now, month, res := demoMonth(t)
	svc := &report.Service{Store: db, DataDir: dataDir, Now: func() time.Time { return now }, Buckets: 4}
	if _, err := svc.SplitUsage(ctx, res.Import); err != nil {
		t.Fatal(err)
	}
	parts, err := filepath.Glob(filepath.Join(dataDir, "usage-store", "focus", "buckets=4", "month=2026-11", "bucket=*", "*.parquet"))
	if err != nil || len(parts) == 0 {
		t.Fatalf("the store's parts: %v %v", parts, err)
	}
	if err := os.WriteFile(parts[0], []byte("PAR1 not a parquet file PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Close(ctx, month, true)
	rel, _ := filepath.Rel(filepath.Join(dataDir, "usage-store"), parts[0])
	if err == nil || !strings.Contains(err.Error(), filepath.ToSlash(rel)) {
		t.Fatalf("close over a corrupt part: %v; want an error naming %s", err, rel)
	}
	if _, err := db.ReportVersion(ctx, month.String(), 0); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("a version was published: %v", err)
	}
	runs, _ := db.PartitionRuns(ctx, 1)
	if len(runs) != 1 || runs[0].State != partnerlink.RunFailed || !strings.Contains(runs[0].Error, "parquet") {
		t.Errorf("the failed run: %+v", runs)
	}
}

// demoMonth is a store in a new data directory holding the demo world and
// the demo usage of 2026-11 (import res), on 2027-01-20 (now).
func demoMonth(t *testing.T) (dataDir string, db *sqlstore.DB, now time.Time, month partnerlink.Month, res *usage.Result) {
	t.Helper()
	dataDir = t.TempDir()
	db = storeWith(t, dataDir, demo.World(demo.NewCredentials()))
	now = time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	month = partnerlink.MonthOf(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	res, err := usage.Import(context.Background(), db, dataDir, usage.FOCUS, "u.csv", bytes.NewReader(demo.UsageCSV(month.Start())), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dataDir, db, now, month, res
}

// storeWith opens a SQLite store in dataDir holding doc.
func storeWith(t *testing.T, dataDir string, doc *world.Document) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(dataDir, "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	world.Normalize(doc)
	if err := db.ImportWorld(context.Background(), doc, identity.HashSecret); err != nil {
		t.Fatal(err)
	}
	return db
}

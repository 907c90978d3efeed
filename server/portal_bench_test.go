package server_test

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

// BenchmarkPortalPages measures the portal's pages on the demo world with a
// closed month, under 20 concurrent browsers (half alice, a partner
// consultant; half bob, a customer administrator), each fetching its pages
// in turn over keep-alive HTTPS. It reports the latency percentiles of
// single page loads (docs/performance.md, "Portal pages"):
//
//	go test ./server -run '^$' -bench PortalPages -benchtime 2000x
func BenchmarkPortalPages(b *testing.B) {
	srv, creds, client, _ := closedDemo(b)
	const browsers = 20
	type browser struct {
		pb    *portalBrowser
		pages []string
	}
	var bs []browser
	for i := range browsers {
		pb := newPortalBrowser(b, srv.URL, client)
		if i%2 == 0 {
			pb.signIn(demo.AliceSignIn, creds.AlicePassword)
			bs = append(bs, browser{pb, []string{"/portal", "/portal/link", "/portal/partner",
				"/portal/link?directory=" + demo.FabrikamTenant, "/portal/partner/explain"}})
		} else {
			pb.signIn(demo.BobSignIn, creds.BobPassword)
			bs = append(bs, browser{pb, []string{"/portal", "/portal/link", "/portal/customer"}})
		}
		if b.Failed() {
			return
		}
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range browsers {
		wg.Add(1)
		go func(br browser) {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; ; i++ {
				if next.Add(1) > int64(b.N) {
					break
				}
				start := time.Now()
				resp, err := br.pb.c.Get(srv.URL + br.pages[i%len(br.pages)])
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("%s: %d", br.pages[i%len(br.pages)], resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(bs[w])
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

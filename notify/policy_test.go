package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/sqlstore"
	st "github.com/partnerlink/partnerlink/sqlstore/storetest"
)

// fakeDNS answers look-ups from a table; unknown names do not resolve.
func fakeDNS(table map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		a, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
}

// Webhook URLs: https only, no credentials, only public targets unless
// the operator allowed them (docs/operations.md, "Webhooks").
func TestPolicyCheckURL(t *testing.T) {
	dns := fakeDNS(map[string]string{"hooks.example.com": "93.184.216.34", "inside.example.com": "10.1.2.3",
		"meta.example.com": "169.254.169.254", "v6.example.com": "2606:4700::1111"})
	def, err := notify.ParsePolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	def.Resolve = dns
	allow, err := notify.ParsePolicy([]string{"127.0.0.1,10.0.0.0/8", "hooks.internal", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	allow.Resolve = dns
	cases := []struct {
		url       string
		def, allw string // "" accepted, otherwise a part of the error message
	}{
		{"https://hooks.example.com/partnerlink", "", ""},
		{"https://93.184.216.34:8443/h", "", ""},
		{"https://[2606:4700::1111]/h", "", ""},
		{"https://v6.example.com/h", "", ""},
		{"http://hooks.example.com/h", "must be an https:// URL", "must be an https:// URL"},
		{"ftp://hooks.example.com/h", "must be an https:// URL", "must be an https:// URL"},
		{"https:///h", "must be an https:// URL", "must be an https:// URL"},
		{"https://user:pw@hooks.example.com/h", "must not carry credentials", "must not carry credentials"},
		{"https://127.0.0.1:9/h", "not a public address", ""},
		{"https://127.0.0.2/h", "not a public address", "not a public address"},
		{"https://[::1]/h", "not a public address", ""},
		{"https://localhost/h", "does not resolve to a public address", "does not resolve to a public address"},
		{"https://10.9.8.7/h", "not a public address", ""},
		{"https://inside.example.com/h", "does not resolve to a public address", ""},
		{"https://172.16.0.1/h", "not a public address", "not a public address"},
		{"https://192.168.1.1/h", "not a public address", "not a public address"},
		{"https://169.254.169.254/latest/meta-data", "not a public address", "not a public address"},
		{"https://meta.example.com/h", "does not resolve to a public address", "does not resolve to a public address"},
		{"https://[fe80::1]/h", "not a public address", "not a public address"},
		{"https://[fd00::1]/h", "not a public address", "not a public address"},
		{"https://0.0.0.0/h", "not a public address", "not a public address"},
		{"https://[::]/h", "not a public address", "not a public address"},
		{"https://224.0.0.1/h", "not a public address", "not a public address"},
		{"https://100.64.0.1/h", "not a public address", "not a public address"},
		{"https://[::ffff:127.0.0.1]/h", "not a public address", ""},
		{"https://[::ffff:10.0.0.1]/h", "not a public address", ""},
		{"https://hooks.internal/h", "does not resolve to a public address", ""},
		{"https://no-such.example.com/h", "does not resolve to a public address", "does not resolve to a public address"},
	}
	for _, c := range cases {
		for _, p := range []struct {
			name   string
			policy *notify.Policy
			want   string
		}{{"default", def, c.def}, {"allowing", allow, c.allw}} {
			err := p.policy.CheckURL(context.Background(), c.url)
			switch {
			case p.want == "" && err != nil:
				t.Errorf("%s policy refused %s: %v", p.name, c.url, err)
			case p.want != "" && err == nil:
				t.Errorf("%s policy accepted %s; want an error with %q", p.name, c.url, p.want)
			case p.want != "" && (!strings.Contains(err.Error(), p.want) || partnerlink.ErrorCode(err) != partnerlink.EINVALID):
				t.Errorf("%s policy on %s: %v (%s); want an invalid-input error with %q", p.name, c.url, err, partnerlink.ErrorCode(err), p.want)
			}
		}
	}
	// A name that resolves to an internal address is told apart neither from
	// one that does not resolve, nor by its address.
	if err := def.CheckURL(context.Background(), "https://inside.example.com/h"); err == nil || strings.Contains(err.Error(), "10.1.2.3") {
		t.Errorf("an internal name's error tells its address: %v", err)
	}
	// An IPv4-mapped CIDR means the IPv4 one.
	mapped, err := notify.ParsePolicy([]string{"::ffff:10.0.0.0/104"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.1.2.3", "::ffff:10.1.2.3"} {
		if !mapped.AllowedAddr(netip.MustParseAddr(a)) {
			t.Errorf("--webhook-allow ::ffff:10.0.0.0/104 does not allow %s", a)
		}
	}
	if mapped.AllowedAddr(netip.MustParseAddr("11.0.0.1")) != notify.Global(netip.MustParseAddr("11.0.0.1")) || mapped.AllowedAddr(netip.MustParseAddr("192.168.0.1")) {
		t.Errorf("--webhook-allow ::ffff:10.0.0.0/104 allows more than 10.0.0.0/8")
	}
	if _, err := notify.ParsePolicy([]string{"::ffff:0.0.0.0/80"}); err == nil || !strings.Contains(err.Error(), "needs at least 96 bits") {
		t.Errorf("short IPv4-mapped CIDR: %v", err)
	}
	if _, err := notify.ParsePolicy([]string{"not a host!"}); err == nil || !strings.Contains(err.Error(), `--webhook-allow "not a host!": expected a CIDR`) {
		t.Errorf("bad --webhook-allow entry: %v", err)
	}
}

// deliveryEnv is a store with one link in tenant A whose notification is
// due at the given webhook.
func deliveryEnv(t *testing.T, url string) (*sqlstore.DB, func() partnerlink.Notification) {
	t.Helper()
	ctx := context.Background()
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	if err := db.SetTenantWebhook(ctx, st.TenantA, url, "policy-test-signing-secret"); err != nil {
		t.Fatal(err)
	}
	linkAt(t, db, st.TenantA, time.Now())
	return db, func() partnerlink.Notification {
		ns, err := db.Notifications(ctx, st.TenantA, 1)
		if err != nil || len(ns) != 1 {
			t.Fatalf("notifications: %v %v", ns, err)
		}
		return ns[0]
	}
}

// The address is checked again when connecting: a name that passed when
// the webhook was set but resolves to a loopback address now (DNS
// rebinding) is never connected to; allowed, the same name is delivered to.
func TestDeliveryChecksAddressAtConnect(t *testing.T) {
	var calls atomic.Int32
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer hook.Close()
	_, port, _ := net.SplitHostPort(hook.Listener.Addr().String())
	url := "https://example.com:" + port + "/hook" // the test certificate's name

	var lookups atomic.Int32
	rebinding := func(context.Context, string) ([]netip.Addr, error) {
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	policy, _ := notify.ParsePolicy(nil)
	policy.Resolve = rebinding
	if err := policy.CheckURL(context.Background(), url); err != nil {
		t.Fatalf("the first look-up is public: %v", err)
	}
	db, last := deliveryEnv(t, url)
	d := notify.New(db)
	d.Policy, d.Client = policy, policy.Client(rootsOf(hook))
	d.Log = slog.New(slog.DiscardHandler)
	if n, err := d.DeliverDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("delivered %d, %v", n, err)
	}
	if calls.Load() != 0 {
		t.Errorf("the receiver on 127.0.0.1 was reached %d times", calls.Load())
	}
	if n := last(); n.Attempts != 1 || n.LastError != "delivery failed (attempt 1)" {
		t.Errorf("after a refused connection: attempts %d, lastError %q", n.Attempts, n.LastError)
	}

	allowed, _ := notify.ParsePolicy([]string{"127.0.0.1"})
	allowed.Resolve = rebinding
	d.Policy, d.Client = allowed, allowed.Client(rootsOf(hook))
	d.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if n, err := d.DeliverDue(context.Background()); err != nil || n != 1 || calls.Load() != 1 {
		t.Errorf("allowed: delivered %d (%d calls), %v", n, calls.Load(), err)
	}
}

// A redirect is not followed: the attempt fails and the target of the
// redirect is never asked.
func TestDeliveryFollowsNoRedirect(t *testing.T) {
	var targetCalls atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { targetCalls.Add(1) }))
	defer target.Close()
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer hook.Close()
	db, last := deliveryEnv(t, hook.URL)
	d := localDeliverer(t, db, hook)
	if n, err := d.DeliverDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("delivered %d, %v", n, err)
	}
	if targetCalls.Load() != 0 {
		t.Errorf("the redirect was followed")
	}
	if n := last(); n.LastError != "delivery failed (attempt 1)" {
		t.Errorf("lastError %q", n.LastError)
	}
}

// What the tenant sees of a failure does not tell a closed port, a
// refused address and an error answer apart (the log does).
func TestFailureMessageIsCoarse(t *testing.T) {
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "https://" + closed.Addr().String() + "/h"
	closed.Close()
	failing := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer failing.Close()
	for name, url := range map[string]string{
		"closed port":     closedURL,
		"error answer":    failing.URL + "/h",
		"refused address": "https://10.0.0.1:9/h", // not allowed: never dialed
		"plain http":      "http://" + failing.Listener.Addr().String() + "/h",
	} {
		db, last := deliveryEnv(t, url)
		d := localDeliverer(t, db, failing)
		if _, err := d.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := last(); n.Attempts != 1 || n.LastError != "delivery failed (attempt 1)" {
			t.Errorf("%s: attempts %d, lastError %q; want \"delivery failed (attempt 1)\"", name, n.Attempts, n.LastError)
		}
	}
}

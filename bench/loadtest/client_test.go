package loadtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

// connClient keeps one connection alive, sends the request as given
// (method, path, headers, Content-Length 0 for a bodiless PUT), reads each
// answer whole, and dials again when the server closes the connection.
func TestConnClient(t *testing.T) {
	var conns, calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer t" || (r.Method == http.MethodPut && r.ContentLength != 0) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if n%2 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte(r.Method + " " + r.URL.Path))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	cfg := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	c := newConnClient(base, cfg)
	defer c.close()
	var body bytes.Buffer
	for i, method := range []string{http.MethodGet, http.MethodPut, http.MethodGet, http.MethodPut, http.MethodGet} {
		u := *base
		u.Path = "/p"
		req := (&http.Request{Method: method, URL: &u, Host: u.Host, Header: http.Header{"Authorization": {"Bearer t"}}}).
			WithContext(context.Background())
		status, err := c.do(req, &body)
		if err != nil || status != http.StatusOK || body.String() != method+" /p" {
			t.Fatalf("request %d: %d %q %v", i, status, body.String(), err)
		}
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections for 5 requests with a close after the 2nd and 4th; want 3", conns.Load())
	}
}

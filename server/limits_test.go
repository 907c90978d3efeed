package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/server"
)

// startServer starts a server with cfg (its limits, its schedule) on a
// fresh data directory and returns it with the TLS configuration that
// trusts it.
func startServer(t testing.TB, cfg server.Config) (*server.Server, *tls.Config) {
	t.Helper()
	cfg.DataDir, cfg.Addr = privateDir(t), "127.0.0.1:0"
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Close() })
	ca, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return srv, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
}

// waitClosed reads from c until the server closes it; it fails the test
// if the connection is still open after limit (far beyond the timeouts
// under test, so only a missing timeout makes it fail).
func waitClosed(t *testing.T, what string, c net.Conn, limit time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: the server kept the connection open for %v", what, limit)
	}
}

// Slow clients are cut off: headers sent a byte at a time, a body sent a
// byte at a time (on the token endpoint, which needs no credential), and
// a keep-alive connection left idle (docs/operations.md).
func TestSlowConnectionsAreClosed(t *testing.T) {
	srv, tlsCfg := startServer(t, server.Config{ReadHeaderTimeout: 300 * time.Millisecond,
		BodyReadTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	// The token endpoint of an existing tenant reads the form.
	if err := srv.DB.PutTenant(context.Background(), partnerlink.Tenant{ID: "00000000-0000-4000-8000-000000000009", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	dial := func() *tls.Conn {
		c, err := tls.Dial("tcp", addr, tlsCfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// dribble writes s a byte every 50 ms until the server closes the connection.
	dribble := func(c net.Conn, s string) {
		go func() {
			for i := 0; i < len(s); i++ {
				if _, err := c.Write([]byte{s[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}

	headers := dial()
	dribble(headers, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "+strings.Repeat("a", 1000)+"\r\n\r\n")
	waitClosed(t, "slow headers", headers, 20*time.Second)

	body := dial()
	form := "grant_type=client_credentials&client_id=00000000-0000-4000-8000-000000000001&client_secret=" + strings.Repeat("s", 1000)
	if _, err := io.WriteString(body, "POST /00000000-0000-4000-8000-000000000009/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(form))+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	dribble(body, form)
	waitClosed(t, "slow body", body, 20*time.Second)

	idle := dial()
	if _, err := io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz on the idle connection: %v %v", resp, err)
	}
	resp.Body.Close()
	waitClosed(t, "idle keep-alive connection", idle, 20*time.Second)
}

// A client opens at most MaxConnsPerIP connections; one more is closed at
// once, and a place is free again when a connection ends.
func TestConnectionsPerIP(t *testing.T) {
	srv, tlsCfg := startServer(t, server.Config{MaxConnsPerIP: 2})
	addr := strings.TrimPrefix(srv.URL, "https://")
	var open []*tls.Conn
	for i := 0; i < 2; i++ {
		c, err := tls.Dial("tcp", addr, tlsCfg)
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		defer c.Close()
		open = append(open, c)
	}
	if c, err := tls.Dial("tcp", addr, tlsCfg); err == nil {
		c.Close()
		t.Fatalf("a third connection from 127.0.0.1 was accepted")
	}
	open[0].Close()
	// The server sees the close when its read returns; retry until then.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := tls.Dial("tcp", addr, tlsCfg)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one was closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

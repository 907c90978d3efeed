package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

func TestEnsureServesTrustedTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	f, err := Ensure(dir, []string{"partnerlink.test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	ca1, _ := os.ReadFile(f.CA)
	// A second start keeps the CA and the certificate.
	if _, err := Ensure(dir, []string{"partnerlink.test"}, now); err != nil {
		t.Fatal(err)
	}
	ca2, _ := os.ReadFile(f.CA)
	if string(ca1) != string(ca2) {
		t.Error("CA regenerated on restart")
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca1)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.URL) // 127.0.0.1: must verify against the CA
	if err != nil {
		t.Fatalf("client trusting ca.pem cannot connect: %v", err)
	}
	resp.Body.Close()
	// Without the CA the connection is refused.
	if _, err := http.Get(srv.URL); err == nil {
		t.Error("connection verified without the local CA")
	}
	// A new host name re-issues the server certificate under the same CA.
	if _, err := Ensure(dir, []string{"other.test"}, now); err != nil {
		t.Fatal(err)
	}
	cert, _, err := loadPair(f.Cert, f.Key)
	if err != nil || !fits(cert, mustCA(t, f), []string{"other.test", "127.0.0.1"}, now) {
		t.Errorf("certificate not re-issued for the new host: %v", err)
	}
}

func mustCA(t *testing.T, f Files) *x509.Certificate {
	ca, _, err := loadPair(f.CA, f.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

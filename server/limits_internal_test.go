package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The body's deadline ends with the body: a handler that works for longer
// than the deadline after reading its body keeps its context and answers
// (http.Server.ReadTimeout would cancel the context when it passes).
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	const d = 100 * time.Millisecond
	srv := httptest.NewUnstartedServer(bodyDeadline(d, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "context cancelled", 500)
			return
		case <-time.After(5 * d):
		}
		w.Write(b)
	})))
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("input"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "input" {
		t.Errorf("answer %d %q; want 200 \"input\"", resp.StatusCode, b)
	}
}

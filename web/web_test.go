package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/web"
)

// Every code has its status and ARM code in the one table; an error wrapped
// with context keeps its code, its ARM code and its message.
func TestErrorStatusAndBody(t *testing.T) {
	cases := []struct {
		err     error
		status  int
		armCode string
		message string
	}{
		{partnerlink.Errorf(partnerlink.EINVALID, "bad"), 400, "BadRequest", "bad"},
		{partnerlink.Errorf(partnerlink.ENOTFOUND, "gone"), 404, "NotFound", "gone"},
		{partnerlink.Errorf(partnerlink.ECONFLICT, "taken"), 409, "Conflict", "taken"},
		{partnerlink.Errorf(partnerlink.EUNAUTHORIZED, "who"), 401, "AuthenticationFailed", "who"},
		{partnerlink.Errorf(partnerlink.EFORBIDDEN, "no"), 403, "AuthorizationFailed", "no"},
		{partnerlink.Errorf(partnerlink.ETOOLARGE, "big"), 413, "RequestEntityTooLarge", "big"},
		{partnerlink.Errorf(partnerlink.EMETHOD, "verb"), 405, "MethodNotAllowed", "verb"},
		{partnerlink.Errorf(partnerlink.ETOOMANY, "slow down"), 429, "TooManyRequests", "slow down"},
		{partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "InvalidResourceType", "no such type"), 404, "InvalidResourceType", "no such type"},
		// Wrapped twice with context: the code survives (errors.As).
		{fmt.Errorf("put link: %w", fmt.Errorf("store: %w", partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "CSPDelegatedPrincipal", "csp"))),
			403, "CSPDelegatedPrincipal", "csp"},
		{errors.New("disk on fire"), 500, "InternalServerError", "Internal error."},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		web.Error(w, httptest.NewRequest("GET", "/x", nil), slog.New(slog.DiscardHandler), c.err)
		var b web.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
			t.Fatalf("%v: body %q is not an error body", c.err, w.Body)
		}
		if w.Code != c.status || b.Error.Code != c.armCode || b.Error.Message != c.message {
			t.Errorf("%v: %d %+v, want %d %s %q", c.err, w.Code, b.Error, c.status, c.armCode, c.message)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%v: Content-Type %q", c.err, ct)
		}
	}
}

// A 500 hides its cause from the caller and logs it with the request id
// the answer carries; an error with a code is not logged.
func TestInternalErrorIsLogged(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	h := web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("read credits: %w", errors.New("connection reset"))
	})
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest("GET", "/api/v1/partners/1/credits", nil))
	id := w.Header().Get(web.RequestIDHeader)
	if w.Code != 500 || strings.Contains(w.Body.String(), "connection reset") || !partnerlink.IsGUID(id) {
		t.Fatalf("answer %d %q id %q: want 500 without the cause, with a request id", w.Code, w.Body, id)
	}
	var rec map[string]any
	if err := json.Unmarshal(logged.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", logged.String(), err)
	}
	if rec["level"] != "ERROR" || rec["request_id"] != id || rec["err"] != "read credits: connection reset" || rec["path"] != "/api/v1/partners/1/credits" {
		t.Errorf("log record %v; want the error, its request id %s and the path", rec, id)
	}

	logged.Reset()
	web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "no such partner")
	})(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if logged.Len() != 0 {
		t.Errorf("a 404 was logged: %s", logged.String())
	}
}

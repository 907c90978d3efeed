package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// APICall sends one request to the partnerlink API (path under /api/v1)
// with a token for tenantID, body as JSON (nil: none), and decodes the
// answer into out. It returns the status; errors come back as
// *partnerlink.Error with the server's message.
func (s *Session) APICall(ctx context.Context, tenantID, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	u := s.Server() + "/api/v1" + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := s.Authorize(req, tenantID); err != nil {
		return 0, err
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, armError(resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("unexpected answer from %s: %w", u, err)
		}
	}
	return resp.StatusCode, nil
}

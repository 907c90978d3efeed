package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Partner is a link as Microsoft.ManagementPartner answers it, flattened
// the way az managementpartner prints it.
type Partner struct {
	CreatedTime time.Time `json:"createdTime"`
	Etag        int       `json:"etag"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ObjectID    string    `json:"objectId"`
	PartnerID   string    `json:"partnerId"`
	PartnerName string    `json:"partnerName"`
	State       string    `json:"state"`
	TenantID    string    `json:"tenantId"`
	Type        string    `json:"type"`
	UpdatedTime time.Time `json:"updatedTime"`
	Version     int       `json:"version"`
}

type partnerWire struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Etag       int    `json:"etag"`
	Properties struct {
		PartnerID   string    `json:"partnerId"`
		PartnerName string    `json:"partnerName"`
		TenantID    string    `json:"tenantId"`
		ObjectID    string    `json:"objectId"`
		Version     int       `json:"version"`
		UpdatedTime time.Time `json:"updatedTime"`
		CreatedTime time.Time `json:"createdTime"`
		State       string    `json:"state"`
	} `json:"properties"`
}

// PartnerCall sends one Microsoft.ManagementPartner request for the
// credential's own link in tenantID: method GET, PUT, PATCH or DELETE, and
// partnerID ("" with GET: the current link). DELETE returns nil, nil. ARM
// errors come back as *partnerlink.Error with the server's message.
func (s *Session) PartnerCall(ctx context.Context, tenantID, method, partnerID string) (*Partner, error) {
	u := s.Server() + "/providers/Microsoft.ManagementPartner/partners"
	if partnerID != "" {
		u += "/" + url.PathEscape(partnerID)
	}
	req, err := http.NewRequestWithContext(ctx, method, u+"?api-version=2018-02-01", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if err := s.Authorize(req, tenantID); err != nil {
		return nil, err
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, armError(resp.StatusCode, body)
	}
	if method == http.MethodDelete {
		return nil, nil
	}
	var w partnerWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("unexpected answer from %s: %w", u, err)
	}
	p := w.Properties
	return &Partner{CreatedTime: p.CreatedTime, Etag: w.Etag, ID: w.ID, Name: w.Name, ObjectID: p.ObjectID,
		PartnerID: p.PartnerID, PartnerName: p.PartnerName, State: p.State, TenantID: p.TenantID, Type: w.Type,
		UpdatedTime: p.UpdatedTime, Version: p.Version}, nil
}

// armError turns an ARM error body into an *partnerlink.Error with a code
// that matches its status.
func armError(status int, body []byte) error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	code := map[int]string{400: partnerlink.EINVALID, 401: partnerlink.EUNAUTHORIZED, 403: partnerlink.EFORBIDDEN,
		404: partnerlink.ENOTFOUND, 409: partnerlink.ECONFLICT, 413: partnerlink.ETOOLARGE}[status]
	if code == "" {
		code = partnerlink.EINTERNAL
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return &partnerlink.Error{Code: code, Message: fmt.Sprintf("the server answered %d %s", status, http.StatusText(status))}
	}
	return &partnerlink.Error{Code: code, ARMCode: e.Error.Code, Message: fmt.Sprintf("(%s) %s", e.Error.Code, e.Error.Message)}
}

package arm

import (
	"net/http"

	"github.com/partnerlink/partnerlink"
)

// mpVersions are the api-versions of Microsoft.ManagementPartner: 2018-02-01
// is the only one that exists.
var mpVersions = []string{"2018-02-01"}

// partnerResponse is PartnerResponse of the 2018-02-01 spec. etag and
// version are integers (the Go SDK cannot read strings there); id is
// lower-case and type plural, as the real service answers.
type partnerResponse struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Etag       int               `json:"etag"`
	Properties partnerProperties `json:"properties"`
}

type partnerProperties struct {
	PartnerID   string `json:"partnerId"`
	PartnerName string `json:"partnerName"`
	TenantID    string `json:"tenantId"`
	ObjectID    string `json:"objectId"`
	Version     int    `json:"version"`
	UpdatedTime string `json:"updatedTime"`
	CreatedTime string `json:"createdTime"`
	State       string `json:"state"`
}

// armTime is the 7-fractional-digit UTC form ARM writes.
const armTime = "2006-01-02T15:04:05.0000000Z"

func toPartnerResponse(v *partnerlink.LinkView) partnerResponse {
	return partnerResponse{
		ID:   "/providers/microsoft.managementpartner/partners/" + v.PartnerID,
		Type: "Microsoft.ManagementPartner/partners",
		Name: v.PartnerID,
		Etag: v.Version,
		Properties: partnerProperties{
			PartnerID:   v.PartnerID,
			PartnerName: v.PartnerName,
			TenantID:    v.TenantID,
			ObjectID:    v.ObjectID,
			Version:     v.Version,
			UpdatedTime: v.UpdatedTime.UTC().Format(armTime),
			CreatedTime: v.CreatedTime.UTC().Format(armTime),
			State:       "Active",
		},
	}
}

// getCurrentPartner is Partners_Get: the caller's link, also reached as
// ".../partners/" (az and PowerShell send the empty partner ID that way).
func (h *Handler) getCurrentPartner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, _ params) error {
	return h.getPartner(w, r, c, params{})
}

// getPartner is Partner_Get.
func (h *Handler) getPartner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	v, err := h.Links.Get(r.Context(), c, p.name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPartnerResponse(v))
	return nil
}

// putPartner is Partner_Create: no body; 200 (never 201), idempotent.
func (h *Handler) putPartner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	v, err := h.Links.Link(r.Context(), c, p.name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPartnerResponse(v))
	return nil
}

// patchPartner is Partner_Update: it replaces the caller's single link with
// the given partner ID (the recorded behaviour of the real service).
func (h *Handler) patchPartner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	return h.putPartner(w, r, c, p)
}

// deletePartner is Partner_Delete: 200 with an empty body (never 204).
func (h *Handler) deletePartner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	if err := h.Links.Unlink(r.Context(), c, p.name); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

type operationList struct {
	Value    []operation `json:"value"`
	NextLink *string     `json:"nextLink,omitempty"`
}

type operation struct {
	Name    string           `json:"name"`
	Display operationDisplay `json:"display"`
	Origin  string           `json:"origin,omitempty"`
}

type operationDisplay struct {
	Provider    string `json:"provider"`
	Resource    string `json:"resource"`
	Operation   string `json:"operation"`
	Description string `json:"description"`
}

var mpOperations = func() operationList {
	var l operationList
	for _, op := range []struct{ verb, op, desc string }{
		{"read", "Get ManagementPartner", "Read All ManagementPartner"},
		{"write", "Create ManagementPartner", "Create any ManagementPartner"},
		{"action", "Update ManagementPartner", "Update any ManagementPartner"},
		{"delete", "Delete ManagementPartner", "Delete any ManagementPartner"},
	} {
		l.Value = append(l.Value, operation{Name: "Microsoft.ManagementPartner/partners/" + op.verb,
			Display: operationDisplay{Provider: "Microsoft ManagementPartner", Resource: "ManagementPartner",
				Operation: op.op, Description: op.desc}})
	}
	return l
}()

// listOperations is Operation_List.
func (h *Handler) listOperations(w http.ResponseWriter, _ *http.Request, _ partnerlink.Caller, _ params) error {
	writeJSON(w, http.StatusOK, mpOperations)
	return nil
}

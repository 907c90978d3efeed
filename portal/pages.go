package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// home is the overview of the selected directory.
func (p *Portal) home(w http.ResponseWriter, r *http.Request, v *view, token string) {
	v.Title, v.Page = "Overview", "home"
	v.Account = p.account(r, v, token)
	p.render(w, r, http.StatusOK, "home", *v)
}

// account names the signed-in person's account in the directory.
func (p *Portal) account(r *http.Request, v *view, token string) string {
	c, err := unverifiedClaims(token)
	if err != nil {
		return ""
	}
	if c.TenantID == v.Session.HomeTenantID {
		return v.Session.Name + " (member)"
	}
	return v.Session.Name + " (guest, object " + c.ObjectID + ")"
}

// linkView is a link as the page shows it.
type linkView struct {
	PartnerID, PartnerName, CreatedTime, UpdatedTime string
}

// currentLink reads the account's link in the directory through the ARM
// surface: nil when there is none.
func (p *Portal) currentLink(r *http.Request, token string) (*linkView, string) {
	status, body := p.arm(r.Context(), http.MethodGet, "/providers/Microsoft.ManagementPartner/partners"+mpVersion, token)
	if status == http.StatusNotFound {
		return nil, ""
	}
	if status != http.StatusOK {
		return nil, armError(body)
	}
	var res struct {
		Properties struct {
			PartnerID   string `json:"partnerId"`
			PartnerName string `json:"partnerName"`
			CreatedTime string `json:"createdTime"`
			UpdatedTime string `json:"updatedTime"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, "The link could not be read."
	}
	pr := res.Properties
	return &linkView{PartnerID: pr.PartnerID, PartnerName: pr.PartnerName, CreatedTime: pr.CreatedTime, UpdatedTime: pr.UpdatedTime}, ""
}

// link shows and changes the account's link in the directory: link,
// update and remove call the ARM surface's PUT, PATCH and DELETE, so the
// page gets the API's answers and errors.
func (p *Portal) link(w http.ResponseWriter, r *http.Request, v *view, token string) {
	v.Title, v.Page = "Link to a partner ID", "link"
	v.Account = p.account(r, v, token)
	status := http.StatusOK
	if r.Method == http.MethodPost {
		current, _ := p.currentLink(r, token)
		id := strings.TrimSpace(r.PostForm.Get("partnerId"))
		v.PartnerInput = id
		method, done := "", r.PostForm.Get("action")
		switch done {
		case "link":
			method = http.MethodPut
		case "update":
			method = http.MethodPatch
		case "remove":
			method = http.MethodDelete
			if current != nil {
				id = current.PartnerID
			}
		default:
			v.Error, status = "Choose Link a partner ID, Update or Remove.", http.StatusBadRequest
		}
		if method != "" && id == "" {
			v.Error, status = "Enter a Microsoft partner ID (digits, such as 1234567).", http.StatusBadRequest
		} else if method != "" {
			code, body := p.arm(r.Context(), method, "/providers/Microsoft.ManagementPartner/partners/"+url.PathEscape(id)+mpVersion, token)
			if code == http.StatusOK {
				// After a change, the page is fetched again (no resubmission).
				v.Session.setFlash(v.Directory.ID, done, doneMessage(done, id))
				http.Redirect(w, r, "/portal/link?"+url.Values{"directory": {v.Directory.ID}}.Encode(), http.StatusSeeOther)
				return
			}
			v.Error, status = armError(body), code
		}
	} else {
		v.Done, v.Message = v.Session.takeFlash(v.Directory.ID)
	}
	var errText string
	v.Link, errText = p.currentLink(r, token)
	if errText != "" && v.Error == "" {
		v.Error = errText
	}
	p.render(w, r, status, "link", *v)
}

// doneMessage words a change the link form made.
func doneMessage(done, id string) string {
	switch done {
	case "link":
		return fmt.Sprintf("Linked partner ID %s.", id)
	case "update":
		return fmt.Sprintf("Updated the link to partner ID %s.", id)
	case "remove":
		return fmt.Sprintf("Removed the link to partner ID %s.", id)
	}
	return ""
}

package portal

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/partnerlink/partnerlink/onboarding"
)

// onboardView is the accelerator page's content.
type onboardView struct {
	Request onboarding.Request
	Result  *onboarding.Result
	Field   string // the id of the field the error is about ("": the form's)
}

// onboardField is the field an accelerator's error is about, from the step
// that refused (onboarding.Onboard words its errors "step: …").
func onboardField(msg string) string {
	for prefix, field := range map[string]string{"find the app": "app-id", "find the role": "role", "check the scope": "scope",
		"check the partner ID": "onboard-partner-id", "link the partner ID": "onboard-partner-id"} {
		if strings.HasPrefix(msg, prefix+":") {
			return field
		}
	}
	return ""
}

// onboard is the service principal accelerator for the directory's
// administrators (docs/clients.md, "Onboarding a service principal"): the
// form posts to the API in process with the account's token, so the API
// decides who may run it.
func (p *Portal) onboard(w http.ResponseWriter, r *http.Request, v *view, token string) {
	v.Title, v.Page = "Onboard a partner app", "onboard"
	ov := &onboardView{}
	v.Data = ov
	status := http.StatusOK
	if r.Method == http.MethodPost {
		f := r.PostForm
		ov.Request = onboarding.Request{AppID: strings.TrimSpace(f.Get("appId")), Role: strings.TrimSpace(f.Get("role")),
			Scope: strings.TrimSpace(f.Get("scope")), PartnerID: strings.TrimSpace(f.Get("partnerId"))}
		body, _ := json.Marshal(ov.Request)
		code, b, _ := call(r.Context(), p.API, http.MethodPost, p.BaseURL+"/api/v1/tenants/"+v.Directory.ID+"/onboarding/service-principals", token, body)
		if code == http.StatusOK || code == http.StatusCreated {
			ov.Result = &onboarding.Result{}
			if err := json.Unmarshal(b, ov.Result); err != nil {
				p.fail(w, r, v, err)
				return
			}
		} else {
			v.Error, status = armError(b), code
			ov.Field = onboardField(v.Error)
		}
	}
	p.render(w, r, status, "onboard", *v)
}

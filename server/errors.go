package server

import (
	"net/http"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/web"
)

// notFound answers a path no part of the server serves.
func notFound(w http.ResponseWriter, r *http.Request) {
	web.Error(w, r, nil, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound",
		"The path '%s' is not served here: see docs/api.md for the endpoints of the ARM surface, /api/v1, the token service and /metrics.", r.URL.Path))
}

// methodNotAllowed answers a method the path does not take, naming those it does.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	web.Error(w, r, nil, partnerlink.ARMErrorf(partnerlink.EMETHOD, "MethodNotAllowed",
		"The method '%s' is not allowed on '%s'; allowed: %s.", r.Method, r.URL.Path, allow))
}

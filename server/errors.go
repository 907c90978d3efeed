package server

import (
	"encoding/json"
	"net/http"

	"github.com/partnerlink/partnerlink/arm"
)

// writeError answers with the JSON error body every API of the server uses,
// {"error":{"code","message"}} (docs/api.md, "Errors").
func writeError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(arm.ErrorBody{Error: arm.ErrorDetail{Code: code, Message: message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// notFound answers a path no part of the server serves.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "NotFound",
		"The path '"+r.URL.Path+"' is not served here: see docs/api.md for the endpoints of the ARM surface, /api/v1, the token service and /metrics.")
}

// methodNotAllowed answers a method the path does not take, naming those it does.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
		"The method '"+r.Method+"' is not allowed on '"+r.URL.Path+"'; allowed: "+allow+".")
}

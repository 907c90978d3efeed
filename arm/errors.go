package arm

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/partnerlink/partnerlink"
)

// StatusCode maps an error code to its HTTP status, in one place.
func StatusCode(code string) int {
	switch code {
	case partnerlink.EINVALID:
		return http.StatusBadRequest
	case partnerlink.ENOTFOUND:
		return http.StatusNotFound
	case partnerlink.ECONFLICT:
		return http.StatusConflict
	case partnerlink.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case partnerlink.EFORBIDDEN:
		return http.StatusForbidden
	case partnerlink.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case "method":
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// defaultARMCode is the ARM error code of an error that names none.
func defaultARMCode(code string) string {
	switch code {
	case partnerlink.EINVALID:
		return "BadRequest"
	case partnerlink.ENOTFOUND:
		return "NotFound"
	case partnerlink.ECONFLICT:
		return "Conflict"
	case partnerlink.EUNAUTHORIZED:
		return "AuthenticationFailed"
	case partnerlink.EFORBIDDEN:
		return "AuthorizationFailed"
	case partnerlink.ETOOLARGE:
		return "RequestEntityTooLarge"
	}
	return "InternalServerError"
}

// ErrorBody is the ARM error body {"error":{"code","message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an ARM error body.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes err as an ARM error with its status.
func writeError(w http.ResponseWriter, err error) {
	code := partnerlink.ErrorCode(err)
	body := ErrorBody{Error: ErrorDetail{Code: defaultARMCode(code), Message: partnerlink.ErrorMessage(err)}}
	if e, ok := err.(*partnerlink.Error); ok && e.ARMCode != "" {
		body.Error.Code = e.ARMCode
	}
	writeJSON(w, StatusCode(code), body)
}

// writeJSON writes v with the content type ARM uses.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"Internal error."}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// checkAPIVersion requires an api-version and, when versions is non-nil,
// one of them; otherwise any YYYY-MM-DD[-preview] version is accepted.
func checkAPIVersion(v string, versions []string) error {
	if v == "" {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
	}
	if versions == nil {
		if wellFormedVersion(v) {
			return nil
		}
	} else {
		for _, ok := range versions {
			if v == ok {
				return nil
			}
		}
	}
	supported := "a date such as 2022-12-01"
	if versions != nil {
		supported = "'" + strings.Join(versions, "', '") + "'"
	}
	return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidApiVersionParameter",
		"The api-version '%s' is invalid. The supported versions are %s.", v, supported)
}

func wellFormedVersion(v string) bool {
	date, suffix, _ := strings.Cut(v, "-preview")
	if suffix != "" || len(date) != 10 || date[4] != '-' || date[7] != '-' {
		return false
	}
	for i, c := range date {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

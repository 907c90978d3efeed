package arm

import (
	"net/http"
	"strings"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/web"
)

// writeJSON writes v with the content type ARM uses.
func writeJSON(w http.ResponseWriter, status int, v any) { web.JSON(w, status, v) }

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

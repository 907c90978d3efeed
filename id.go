package partnerlink

import (
	"strings"
)

// ParseGUID checks that s is a GUID (8-4-4-4-12 hex digits, any case) and
// returns it lower-cased: ids are compared case-insensitively and written
// lower-case (docs/rules.md#identifiers-and-time). field names the input in the error message.
func ParseGUID(field, s string) (string, error) {
	if !IsGUID(s) {
		return "", Errorf(EINVALID, "%s %q is not a GUID; expected 8-4-4-4-12 hexadecimal digits such as 0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", field, s)
	}
	return strings.ToLower(s), nil
}

// IsGUID reports whether s has the 8-4-4-4-12 hex form.
func IsGUID(s string) bool {
	_, ok := ParseGUIDBytes(s)
	return ok
}

// ValidatePartnerID checks the form of a partner ID: 1 to 10 decimal digits
// (docs/rules.md#identifiers-and-time). It is checked before any lookup.
func ValidatePartnerID(s string) error {
	if len(s) == 0 || len(s) > 10 {
		return ARMErrorf(EINVALID, "BadRequest", "partner ID %q is not valid: a partner ID is 1 to 10 decimal digits (the MPN / Associated Partner ID, for example 1234567)", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ARMErrorf(EINVALID, "BadRequest", "partner ID %q is not valid: a partner ID is 1 to 10 decimal digits (the MPN / Associated Partner ID, for example 1234567)", s)
		}
	}
	return nil
}

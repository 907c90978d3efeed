package partnerlink

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength bounds a Power Platform environment or resource id
// (docs/rules.md#names-and-ids).
const MaxIDLength = 128

// CheckPowerPlatformID checks an environment's or a Power Platform
// resource's id: 1 to MaxIDLength letters, digits, '-', '_' and '.', as
// GUIDs, "Default-<guid>" and the like are. It appears in URL paths, file
// rows and pages, so nothing else is taken.
func CheckPowerPlatformID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("an id of 1 to %d characters is expected, not %d", MaxIDLength, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%q holds %q; an id is made of letters, digits, '-', '_' and '.' (such as Default-0b5e2f7a or a GUID)", clip(id), rune(c))
		}
	}
	return nil
}

// MaxNameLength bounds a role definition's name (docs/rules.md#names-and-ids).
const MaxNameLength = 256

// CheckName checks a display name such as a custom role's: not blank, at
// most MaxNameLength characters, valid UTF-8 without control characters.
// Any other character is kept as given, and every page escapes it.
func CheckName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return fmt.Errorf("the name is not valid UTF-8")
	case n == 0 || isBlank(name):
		return fmt.Errorf("a name must not be blank")
	case n > MaxNameLength:
		return fmt.Errorf("a name of at most %d characters is expected, not %d", MaxNameLength, n)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%q holds the control character %U; a name is printable text", clip(name), r)
		}
	}
	return nil
}

func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

package partnerlink

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxManagementGroupName is the longest management group name Azure
// accepts (docs/rules.md, "Role definitions and management groups").
const MaxManagementGroupName = 90

// ManagementGroupNameRule says what a management group name may be, for
// error messages.
const ManagementGroupNameRule = "1 to 90 characters, each an ASCII letter, a digit, '-', '_', '(', ')' or '.', not ending with '.'"

// CheckManagementGroupName returns nil when name is a management group
// name as Azure accepts it (ManagementGroupNameRule), and otherwise says
// what is wrong with it, quoting at most its first 40 characters.
func CheckManagementGroupName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the management group name is empty; expected %s", ManagementGroupNameRule)
	case utf8.RuneCountInString(name) > MaxManagementGroupName:
		return fmt.Errorf("the management group name %s has %d characters; expected %s", quoteShort(name), utf8.RuneCountInString(name), ManagementGroupNameRule)
	}
	pos := 0
	for _, r := range name {
		pos++
		if r >= utf8.RuneSelf || !mgNameByte(byte(r)) {
			return fmt.Errorf("the management group name %s has %s at position %d; expected %s", quoteShort(name), strconv.QuoteRune(r), pos, ManagementGroupNameRule)
		}
	}
	if name[len(name)-1] == '.' {
		return fmt.Errorf("the management group name %s ends with '.'; expected %s", quoteShort(name), ManagementGroupNameRule)
	}
	return nil
}

func mgNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '(' || c == ')' || c == '.'
}

// quoteShort quotes s, cut to its first 40 characters (and "…") when longer.
func quoteShort(s string) string {
	n := 0
	for i := range s {
		if n == 40 {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

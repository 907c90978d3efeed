package world

import "strings"

// Permits reports whether a role with these actions and notActions allows
// action, as Azure RBAC evaluates it: some action pattern matches and no
// notAction pattern does ("*" matches any text; case-insensitive).
func Permits(actions, notActions []string, action string) bool {
	action = strings.ToLower(action)
	allowed := false
	for _, a := range actions {
		if globMatch(strings.ToLower(a), action) {
			allowed = true
			break
		}
	}
	if !allowed {
		return false
	}
	for _, n := range notActions {
		if globMatch(strings.ToLower(n), action) {
			return false
		}
	}
	return true
}

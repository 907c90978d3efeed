package partnerlink

import "time"

// The rules of a principal's enabled periods (docs/rules.md, "Principals:
// enabled periods"): a principal has one or more enabled periods that do
// not overlap; disabling it ends the latest, enabling it again starts a new
// one, and what it credited before stays credited.

// enableHint says how to enable a principal again, on the CLI and the API.
func enableHint(tenantID, objectID string) string {
	return "partnerlink principal enable --tenant " + tenantID + " --object-id " + objectID +
		" --from INSTANT, or POST /api/v1/admin/tenants/" + tenantID + "/principals/" + objectID + "/enable"
}

// EnableAgain returns p enabled again from instant from: its latest period
// becomes an earlier one and a new period [from, ∞) starts. When from is
// the very instant the latest period ended, that period goes on instead
// (the principal was never without access). It refuses, with ECONFLICT, a
// principal whose latest period has no end (it is enabled), and, with
// EINVALID, an instant before the end of the latest period (enabled
// periods must not overlap).
func (p Principal) EnableAgain(from time.Time) (Principal, error) {
	if p.Period.To.IsZero() {
		return p, Errorf(ECONFLICT, "principal %s of tenant %s is enabled (%s); only a disabled principal can be enabled again",
			p.ObjectID, p.TenantID, periodPhrase(p.Period))
	}
	if from.IsZero() || from.Before(p.Period.To) {
		return p, Errorf(EINVALID, "from %s is before the end of principal %s's last enabled period (%s); its enabled periods must not overlap, so enable it at %s or later",
			instantText(from), p.ObjectID, periodPhrase(p.Period), p.Period.To.UTC().Format(time.RFC3339))
	}
	out := p
	if from.Equal(p.Period.To) {
		out.Period.To = time.Time{}
		return out, nil
	}
	out.Earlier = append(append([]Period(nil), p.Earlier...), p.Period)
	out.Period = Period{From: from}
	return out, nil
}

// Replace returns what storing next over the existing principal cur of the
// same tenant and object id leaves, keeping every earlier enabled period:
//   - next with the start of cur's latest period updates the principal's
//     fields and the end of that period (a PUT with "to" disables it); a
//     period that has ended cannot be reopened or moved this way;
//   - next that starts at or after the end of cur's latest period, with
//     the same fields, enables the principal again (as EnableAgain), over
//     next's period;
//   - anything else would rewrite its history and is refused with
//     ECONFLICT, naming what to do instead.
func Replace(cur, next Principal) (Principal, error) {
	if next.Period.From.Equal(cur.Period.From) {
		if !cur.Period.To.IsZero() && !next.Period.To.Equal(cur.Period.To) {
			return cur, Errorf(ECONFLICT, "principal %s of tenant %s was disabled at %s (%s); a disabled principal's period is not reopened or moved: to enable it again use %s",
				cur.ObjectID, cur.TenantID, cur.Period.To.UTC().Format(time.RFC3339), periodPhrase(cur.Period), enableHint(cur.TenantID, cur.ObjectID))
		}
		next.Earlier = cur.Earlier
		return next, nil
	}
	if cur.Period.To.IsZero() {
		return cur, Errorf(ECONFLICT, "principal %s already exists in tenant %s, enabled %s; adding it again with another start would drop that history: to end its period use partnerlink principal disable, then %s",
			cur.ObjectID, cur.TenantID, periodPhrase(cur.Period), enableHint(cur.TenantID, cur.ObjectID))
	}
	if next.Period.From.IsZero() || next.Period.From.Before(cur.Period.To) {
		return cur, Errorf(ECONFLICT, "principal %s already exists in tenant %s (%s); a new enabled period must start at %s or later, without overlapping it: use %s",
			cur.ObjectID, cur.TenantID, periodPhrase(cur.Period), cur.Period.To.UTC().Format(time.RFC3339), enableHint(cur.TenantID, cur.ObjectID))
	}
	if field, was, is := DifferingField(cur, next); field != "" {
		return cur, Errorf(ECONFLICT, "principal %s of tenant %s has %s %q, not %q; enabling it again keeps its fields: give the same %s (or change it first by adding it with its current period, from %s)",
			cur.ObjectID, cur.TenantID, field, was, is, field, instantText(cur.Period.From))
	}
	out, err := cur.EnableAgain(next.Period.From)
	if err != nil {
		return cur, err
	}
	out.Period.To = next.Period.To
	return out, nil
}

// DifferingField names the first field other than the periods in which two
// records of one principal differ, with both values; "" when they agree.
// A user's empty sign-in name is its display name.
func DifferingField(a, b Principal) (field, aValue, bValue string) {
	signIn := func(p Principal) string {
		if p.SignInName == "" && p.Type == PrincipalUser {
			return p.DisplayName
		}
		return p.SignInName
	}
	csp := func(p Principal) string {
		if p.CSPDelegated {
			return "true"
		}
		return "false"
	}
	for _, f := range []struct{ name, a, b string }{
		{"type", string(a.Type), string(b.Type)},
		{"displayName", a.DisplayName, b.DisplayName},
		{"signInName", signIn(a), signIn(b)},
		{"homeTenantId", a.HomeTenantID, b.HomeTenantID},
		{"homeObjectId", a.HomeObjectID, b.HomeObjectID},
		{"appId", a.AppID, b.AppID},
		{"cspDelegated", csp(a), csp(b)},
	} {
		if f.a != f.b {
			return f.name, f.a, f.b
		}
	}
	return "", "", ""
}

// periodPhrase describes an enabled period: "since always", "since T",
// "from F until T", "until T".
func periodPhrase(p Period) string {
	switch {
	case p.From.IsZero() && p.To.IsZero():
		return "since always"
	case p.To.IsZero():
		return "since " + p.From.UTC().Format(time.RFC3339)
	case p.From.IsZero():
		return "until " + p.To.UTC().Format(time.RFC3339)
	}
	return "from " + p.From.UTC().Format(time.RFC3339) + " until " + p.To.UTC().Format(time.RFC3339)
}

func instantText(t time.Time) string {
	if t.IsZero() {
		return "(none: since always)"
	}
	return t.UTC().Format(time.RFC3339)
}

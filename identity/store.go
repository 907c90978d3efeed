package identity

import (
	"context"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Directory is what the token service reads from the directory. The SQL
// stores implement it; every id passed in and returned is a lower-case GUID.
type Directory interface {
	// Tenant returns the tenant; ENOTFOUND when it does not exist.
	Tenant(ctx context.Context, tenantID string) (*partnerlink.Tenant, error) // ENOTFOUND
	// Principal returns the principal with its enabled periods (the latest
	// and any earlier ones), whether or not it is active now (the caller
	// checks ActiveAt); ENOTFOUND when it never existed.
	Principal(ctx context.Context, tenantID, objectID string) (*partnerlink.Principal, error) // ENOTFOUND
	// ServicePrincipalsByAppID returns the service principals of an
	// application in every tenant (the app's home tenant and the tenants it
	// was consented in), active or not. Empty when there are none.
	ServicePrincipalsByAppID(ctx context.Context, appID string) ([]partnerlink.Principal, error)
	// UsersBySignInName returns the principals of Type User whose
	// SignInName equals signInName, compared case-insensitively, in every
	// tenant, active or not.
	UsersBySignInName(ctx context.Context, signInName string) ([]partnerlink.Principal, error) // Type User only, case-insensitive
	// GuestsOf returns the guests (Type Guest, in any tenant, active or not)
	// that the user homeObjectID of homeTenantID signs in as: guests whose
	// HomeObjectID is that user and, for guests recorded without a
	// HomeObjectID, guests named by the B2B convention (the home user
	// "x@domain" appears as "x_domain#EXT#@…"; see GuestOf). The token
	// service filters the result with GuestOf, so a store may return more.
	GuestsOf(ctx context.Context, homeTenantID, homeObjectID string) ([]partnerlink.Principal, error)
	// SecretHashes returns the bcrypt hashes (see HashSecret) of the
	// principal's client secrets or password; empty when it has none.
	SecretHashes(ctx context.Context, tenantID, objectID string) ([]string, error)
}

// GrantStore keeps short-lived grants (device codes, refresh tokens) as opaque values under hashed keys.
// The token service never passes a secret as a key: keys are SHA-256 hex
// digests of the secrets, so a leaked table does not leak usable tokens.
type GrantStore interface {
	// PutGrant stores value under (kind, key) until expires, replacing any
	// previous value.
	PutGrant(ctx context.Context, kind, key string, value []byte, expires time.Time) error
	// GetGrant returns the value; ENOTFOUND when absent or expired.
	GetGrant(ctx context.Context, kind, key string) ([]byte, error) // ENOTFOUND when absent or expired
	// TakeGrant returns the value and deletes it in one atomic step, so
	// that of two concurrent callers exactly one gets it; ENOTFOUND when
	// absent or expired.
	TakeGrant(ctx context.Context, kind, key string) ([]byte, error) // get and delete atomically; ENOTFOUND
	// UpdateGrant replaces the value and keeps the expiry; ENOTFOUND when
	// absent or expired.
	UpdateGrant(ctx context.Context, kind, key string, value []byte) error
}

// Grant kinds used with GrantStore.
const (
	GrantDeviceCode   = "device_code"   // key: hash of the device code
	GrantUserCode     = "user_code"     // key: hash of the normalized user code; value: the device code key
	GrantRefreshToken = "refresh_token" // key: hash of the refresh token
	GrantDeviceForm   = "device_form"   // key: hash of the per-render form token of GET /device
	GrantAuthCode     = "auth_code"     // key: hash of an authorization code
	GrantSignInForm   = "signin_form"   // key: hash of the per-render form token of the sign-in page
)

// GuestOf reports whether guest is a guest account that the home user signs
// in as: by the guest's HomeObjectID (and HomeTenantID when recorded), or,
// when the guest has no HomeObjectID, by the B2B naming convention: the home
// user "x@domain" is invited as "x_domain#EXT#@host" (compared
// case-insensitively on the guest's SignInName, or DisplayName when the
// sign-in name is empty). Stores may use it to implement GuestsOf.
func GuestOf(guest, home partnerlink.Principal) bool {
	if guest.Type != partnerlink.PrincipalGuest {
		return false
	}
	if guest.HomeObjectID != "" {
		if !strings.EqualFold(guest.HomeObjectID, home.ObjectID) {
			return false
		}
		return guest.HomeTenantID == "" || strings.EqualFold(guest.HomeTenantID, home.TenantID)
	}
	if guest.HomeTenantID != "" && !strings.EqualFold(guest.HomeTenantID, home.TenantID) {
		return false
	}
	ext := ExternalName(signInName(home))
	if ext == "" {
		return false
	}
	name := strings.ToLower(signInName(guest))
	return strings.HasPrefix(name, ext)
}

// ExternalName returns the lower-case prefix of the guest name under which a
// user "x@domain" is invited into another tenant: "x_domain#ext#". It is ""
// when name has no "@".
func ExternalName(name string) string {
	at := strings.LastIndexByte(name, '@')
	if at <= 0 || at == len(name)-1 {
		return ""
	}
	return strings.ToLower(name[:at] + "_" + name[at+1:] + "#EXT#")
}

// signInName is the name a principal signs in with: SignInName, or
// DisplayName when the store left it empty.
func signInName(p partnerlink.Principal) string {
	if p.SignInName != "" {
		return p.SignInName
	}
	return p.DisplayName
}

package identity

import (
	"context"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// namesDirectory holds one user, ana, with one password.
type namesDirectory struct {
	Directory
	hash string
}

func (d namesDirectory) UsersBySignInName(_ context.Context, name string) ([]partnerlink.Principal, error) {
	if name != "ana@fabrikam.example" {
		return nil, nil
	}
	return []partnerlink.Principal{{TenantID: "a", ObjectID: "ana", Type: partnerlink.PrincipalUser, SignInName: name}}, nil
}

func (d namesDirectory) SecretHashes(context.Context, string, string) ([]string, error) {
	return []string{d.hash}, nil
}

// docs/operations.md, "Sign-in throttling": a password sign-in checks one hash whether
// or not the name exists, so the answer's time does not tell names apart.
func TestUnknownNameChecksAHashToo(t *testing.T) {
	hash, err := HashSecret("right")
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{dir: namesDirectory{hash: hash}, now: time.Now}
	checks := 0
	checkSecret = func(h, secret string) bool { checks++; return CheckSecret(h, secret) }
	t.Cleanup(func() { checkSecret = CheckSecret })
	for _, name := range []string{"ana@fabrikam.example", "nobody@fabrikam.example"} {
		checks = 0
		p, oe, err := s.authenticateUser(context.Background(), name, "wrong")
		if p != nil || oe == nil || err != nil || oe.code != "invalid_grant" {
			t.Fatalf("%s with a wrong password: %v %+v %v", name, p, oe, err)
		}
		if checks != 1 {
			t.Errorf("%s: %d hash checks, want 1", name, checks)
		}
	}
	if p, oe, err := s.authenticateUser(context.Background(), "ana@fabrikam.example", "right"); p == nil || oe != nil || err != nil {
		t.Errorf("ana with her password: %v %+v %v", p, oe, err)
	}
}

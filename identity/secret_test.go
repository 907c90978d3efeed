package identity_test

import (
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/identity"
	"golang.org/x/crypto/bcrypt"
)

// Stored secrets are bcrypt hashes at bcrypt's default cost (the other tests
// store cheaper hashes; CheckSecret reads the cost from the hash).
func TestHashSecret(t *testing.T) {
	h, err := identity.HashSecret("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q contains the secret", h)
	}
	if c, err := bcrypt.Cost([]byte(h)); err != nil || c != bcrypt.DefaultCost {
		t.Fatalf("bcrypt cost of HashSecret = %d, %v; want %d", c, err, bcrypt.DefaultCost)
	}
	if !identity.CheckSecret(h, "correct horse") || identity.CheckSecret(h, "correct horse ") || identity.CheckSecret(h, "") {
		t.Fatal("CheckSecret accepts only the secret that was hashed")
	}
}

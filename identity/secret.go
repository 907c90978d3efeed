package identity

import (
	"crypto/rand"
	"encoding/base64"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// HashSecret hashes a client secret or password for storage. Secrets are
// never stored or exported in clear (docs/api.md#world-document).
func HashSecret(secret string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckSecret reports whether secret matches the stored hash.
func CheckSecret(hash, secret string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
}

// NewSecret returns a random client secret (144 bits, URL-safe). It never
// starts with "-", which command lines (az -p, partnerlink -p) would read
// as a flag.
func NewSecret() string {
	b := make([]byte, 18)
	for {
		if _, err := rand.Read(b); err != nil {
			panic("identity: no randomness: " + err.Error())
		}
		if s := base64.RawURLEncoding.EncodeToString(b); s[0] != '-' {
			return s
		}
	}
}

// checkSecret is CheckSecret; tests count its calls.
var checkSecret = CheckSecret

// dummyHash is a hash no password matches, checked for a sign-in name that
// does not exist (authenticateUser): made once, at the cost of a real one.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashSecret(NewSecret())
	if err != nil {
		panic("identity: hash: " + err.Error())
	}
	return h
})

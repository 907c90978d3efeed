package identity

import (
	"golang.org/x/crypto/bcrypt"
)

// HashSecret hashes a client secret or password for storage. Secrets are
// never stored or exported in clear (SPEC §8.1).
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

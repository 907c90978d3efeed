package identity

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeyOptions configures a KeySet.
type KeyOptions struct {
	// Retain is how long a retired key stays published (and accepted) after
	// Rotate: it must be at least the longest token lifetime plus the clock
	// leeway, so that every token signed with it expires first. Default 2h.
	Retain time.Duration
	// Bits is the RSA key size. Default 2048.
	Bits int
	Now  func() time.Time
}

// KeySet holds the RSA keys that sign our tokens: one active key and the
// retired ones still published for verification. Each key is a file
// DIR/{kid}.json (0600) so the server keeps its keys across restarts.
type KeySet struct {
	dir    string
	retain time.Duration
	bits   int
	now    func() time.Time

	mu     sync.RWMutex
	keys   []*signingKey // sorted by created, newest last
	signer jose.Signer   // signs with the active key
}

type signingKey struct {
	KID     string          `json:"kid"`
	Created time.Time       `json:"created"`
	Retired time.Time       `json:"retired,omitzero"`
	JWK     jose.JSONWebKey `json:"jwk"` // private key
}

// OpenKeys loads the keys in dir, creating the directory and a first key
// when there are none, and deletes retired keys past their retention.
func OpenKeys(dir string, opts KeyOptions) (*KeySet, error) {
	ks := &KeySet{dir: dir, retain: opts.Retain, bits: opts.Bits, now: opts.Now}
	if ks.retain == 0 {
		ks.retain = 2 * time.Hour
	}
	if ks.bits == 0 {
		ks.bits = 2048
	}
	if ks.now == nil {
		ks.now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: create key directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("identity: read key directory: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("identity: read key: %w", err)
		}
		var k signingKey
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("identity: parse key %s: %w", e.Name(), err)
		}
		if _, ok := k.JWK.Key.(*rsa.PrivateKey); !ok || k.KID == "" {
			return nil, fmt.Errorf("identity: key %s is not an RSA private key with a kid", e.Name())
		}
		ks.keys = append(ks.keys, &k)
	}
	sort.Slice(ks.keys, func(i, j int) bool { return ks.keys[i].Created.Before(ks.keys[j].Created) })
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err := ks.prune(); err != nil {
		return nil, err
	}
	if ks.active() == nil {
		if err := ks.addKey(); err != nil {
			return nil, err
		}
	}
	return ks, ks.resetSigner()
}

// Rotate makes a new active key. The previous one is retired: it no longer
// signs but stays in the JWKS, and verifies, for Retain.
func (ks *KeySet) Rotate() error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now().UTC()
	for _, k := range ks.keys {
		if k.Retired.IsZero() {
			k.Retired = now
			if err := ks.write(k); err != nil {
				return err
			}
		}
	}
	if err := ks.addKey(); err != nil {
		return err
	}
	if err := ks.prune(); err != nil {
		return err
	}
	return ks.resetSigner()
}

// ActiveKID returns the kid new tokens are signed with.
func (ks *KeySet) ActiveKID() string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.active().KID
}

// Sign serializes claims (any JSON-encodable value) as a JWT signed by the
// active key, with its kid. The token service uses it; tests and tools use
// it to mint tokens.
func (ks *KeySet) Sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("identity: encode claims: %w", err)
	}
	ks.mu.RLock()
	signer := ks.signer
	ks.mu.RUnlock()
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("identity: sign token: %w", err)
	}
	return jws.CompactSerialize()
}

// PublicKey returns the public key named kid if it is still published.
func (ks *KeySet) PublicKey(kid string) (*rsa.PublicKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	now := ks.now()
	for _, k := range ks.keys {
		if k.KID == kid && ks.published(k, now) {
			return &k.JWK.Key.(*rsa.PrivateKey).PublicKey, true
		}
	}
	return nil, false
}

// JWKS returns the published public keys.
func (ks *KeySet) JWKS() jose.JSONWebKeySet {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	now := ks.now()
	var set jose.JSONWebKeySet
	for i := len(ks.keys) - 1; i >= 0; i-- { // newest first
		k := ks.keys[i]
		if ks.published(k, now) {
			set.Keys = append(set.Keys, k.JWK.Public())
		}
	}
	return set
}

func (ks *KeySet) published(k *signingKey, now time.Time) bool {
	return k.Retired.IsZero() || now.Before(k.Retired.Add(ks.retain))
}

func (ks *KeySet) active() *signingKey {
	for i := len(ks.keys) - 1; i >= 0; i-- {
		if ks.keys[i].Retired.IsZero() {
			return ks.keys[i]
		}
	}
	return nil
}

func (ks *KeySet) resetSigner() error {
	k := ks.active()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.JWK},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return fmt.Errorf("identity: signer: %w", err)
	}
	ks.signer = signer
	return nil
}

// addKey generates, persists and appends a new active key.
func (ks *KeySet) addKey() error {
	priv, err := rsa.GenerateKey(rand.Reader, ks.bits)
	if err != nil {
		return fmt.Errorf("identity: generate key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("identity: key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	k := &signingKey{KID: jwk.KeyID, Created: ks.now().UTC(), JWK: jwk}
	if n := len(ks.keys); n > 0 && !k.Created.After(ks.keys[n-1].Created) {
		// Keep creation order strict even when the clock stands still (tests).
		k.Created = ks.keys[n-1].Created.Add(time.Nanosecond)
	}
	if err := ks.write(k); err != nil {
		return err
	}
	ks.keys = append(ks.keys, k)
	return nil
}

// prune deletes retired keys whose tokens have all expired.
func (ks *KeySet) prune() error {
	now := ks.now()
	kept := ks.keys[:0]
	for _, k := range ks.keys {
		if ks.published(k, now) {
			kept = append(kept, k)
			continue
		}
		if err := os.Remove(ks.path(k.KID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("identity: delete expired key: %w", err)
		}
	}
	ks.keys = kept
	return nil
}

func (ks *KeySet) path(kid string) string { return filepath.Join(ks.dir, kid+".json") }

// write stores a key file atomically (temporary file, then rename), 0600.
func (ks *KeySet) write(k *signingKey) error {
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return fmt.Errorf("identity: encode key: %w", err)
	}
	tmp, err := os.CreateTemp(ks.dir, ".key-*")
	if err != nil {
		return fmt.Errorf("identity: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("identity: write key: %w", err)
	}
	if err := os.Rename(tmp.Name(), ks.path(k.KID)); err != nil {
		return fmt.Errorf("identity: write key: %w", err)
	}
	return nil
}

// RotateIfOlder rotates when the active key was created more than maxAge
// ago, and reports whether it did. The server calls it on a schedule.
func (ks *KeySet) RotateIfOlder(maxAge time.Duration) (bool, error) {
	ks.mu.RLock()
	created := ks.active().Created
	ks.mu.RUnlock()
	if ks.now().Sub(created) < maxAge {
		return false, nil
	}
	return true, ks.Rotate()
}

// Package password hashes and verifies passwords with argon2id, encoded in
// the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash) so that the
// parameters travel with each hash and can be raised later without breaking
// existing logins.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// Default follows OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane).
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hasher hashes new passwords with its parameters and verifies hashes made
// with any parameters. At most one hash per CPU runs at a time: each one
// holds Params.Memory of RAM and a CPU for its whole run, so more would only
// add memory (19 MiB each by default) without adding throughput.
type Hasher struct {
	Params    Params
	slots     chan struct{}
	dummyOnce sync.Once
	dummy     string
}

// New returns a Hasher with the given parameters.
func New(p Params) *Hasher {
	return &Hasher{Params: p, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// key derives an argon2id key within the concurrency bound.
func (h *Hasher) key(pw string, salt []byte, p Params, keyLen uint32) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
}

// MinLength is the shortest password accepted.
const MinLength = 10

// MaxLength bounds the work an attacker can ask of the hasher.
const MaxLength = 256

// Hash returns the encoded argon2id hash of pw.
func (h *Hasher) Hash(pw string) (string, error) {
	p := h.Params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := h.key(pw, salt, p, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMalformed is returned for a stored hash that cannot be parsed.
var ErrMalformed = errors.New("password: malformed hash")

// Verify reports whether pw matches the encoded hash, in constant time.
func (h *Hasher) Verify(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrMalformed
	}
	got := h.key(pw, salt, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyNothing spends the same time as Verify without a real hash. Login
// calls it for an unknown email, so that a wrong password and an unknown
// email take the same time and an attacker cannot tell them apart.
func (h *Hasher) VerifyNothing(pw string) {
	h.dummyOnce.Do(func() {
		h.dummy, _ = h.Hash("atrium-dummy-password-for-timing")
	})
	_, _ = h.Verify(pw, h.dummy)
}

package integrations

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// SecretBytes is how much randomness a generated secret carries.
const SecretBytes = 32

// NewSecret returns a fresh webhook secret from crypto/rand in the form
// the vendor expects under scheme: its Spec.NewSecret form when it has one
// (Bamboo's token field is a UUID), else `whsec_` and base64 for Standard
// Webhooks (GitLab signing tokens) and 64 hex digits for every HMAC and
// token scheme.
func NewSecret(v Vendor, s Scheme) (string, error) {
	var b [SecretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading crypto/rand: %w", err)
	}
	if spec, _ := v.spec(); spec.NewSecret != nil {
		return spec.NewSecret(s, b), nil
	}
	switch {
	case s == SchemeSigning:
		return "whsec_" + base64.StdEncoding.EncodeToString(b[:]), nil
	default:
		return hex.EncodeToString(b[:]), nil
	}
}

// UUIDv4 formats the first 16 bytes of b as a random (version 4, variant
// RFC 9562) UUID: a Spec.NewSecret for vendors whose secret field is a UUID.
func UUIDv4(_ Scheme, b [SecretBytes]byte) string {
	u := b[:16]
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

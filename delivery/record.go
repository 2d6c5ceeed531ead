package delivery

import (
	"net/http"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// Refusal is why a delivery of a known integration is refused before its
// credential is checked: the audit entry's signature field and reason.
type Refusal struct {
	// Signature is "invalid" or "missing", as audited.
	Signature string
	// Reason is a fixed phrase, never anything the caller sent.
	Reason string
}

// CheckRecord decides what the integration's record and the delivery's
// headers decide about a delivery that reached it through vendor's
// receiver: nil when the delivery may be verified, else why it is refused.
// allowUnsigned is the CI_WEBHOOK_ALLOW_UNSIGNED flag; it only ever covers
// an integration without a secret, and never a delivery that carries a
// credential (the vendor signs, so the integration's secret went missing).
func CheckRecord(rec integrations.Record, vendor integrations.Vendor, allowUnsigned bool, h http.Header, rawQuery string) *Refusal {
	switch {
	case rec.Vendor != vendor:
		return &Refusal{Signature: "invalid", Reason: "vendor mismatch"}
	case !rec.Active:
		return &Refusal{Signature: "invalid", Reason: "integration inactive"}
	case !rec.HasSecret() && verifiers.CarriesCredential(vendor, h, rawQuery):
		return &Refusal{Signature: "missing", Reason: "credential sent but integration has no secret"}
	case !rec.HasSecret() && !allowUnsigned:
		return &Refusal{Signature: "missing", Reason: "integration has no secret and unsigned deliveries are not allowed"}
	}
	return nil
}

// Secrets are the secrets a delivery at now may be signed with: the
// current one, and the previous one while its rotation overlap lasts.
func Secrets(rec integrations.Record, now time.Time) verifiers.Secrets {
	sec := verifiers.Secrets{Current: []byte(rec.Secret)}
	if rec.PreviousActive(now) {
		sec.Previous = []byte(rec.PreviousSecret)
	}
	return sec
}

package servicenow

import (
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// init registers how each of the vendor's schemes is verified.
func init() {
	// bearer: Authorization: Bearer <secret> from the REST message.
	verifiers.Register(Vendor, integrations.SchemeBearer, verifiers.Rule{Kind: verifiers.KindBearer, Header: "Authorization"})
	// basic: Basic auth, the password is the secret.
	verifiers.Register(Vendor, integrations.SchemeBasic, verifiers.Rule{Kind: verifiers.KindBasic, Header: "Authorization"})
	// hmac: base64 HMAC-SHA256 of the body (GlideCertificateEncryption.generateMac) in X-ServiceNow-Signature.
	verifiers.Register(Vendor, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindBase64MAC, Header: "X-ServiceNow-Signature"})
}

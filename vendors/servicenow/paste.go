package servicenow

import (
	"encoding/base64"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// KeyProperty is the ServiceNow system property the business rule reads
// its HMAC key from (the manual steps and events/TEMPLATES.md name it).
const KeyProperty = "hookgate.key"

// paste is what scheme hmac needs in ServiceNow: the secret base64-encoded,
// since GlideCertificateEncryption.generateMac decodes its key argument
// from base64 before keying HMAC-SHA256 with it. The raw secret pasted
// there would be decoded into other bytes and every delivery refused.
// The other schemes take the secret as it is.
func paste(rec integrations.Record, secret string) *vendorapi.Paste {
	if rec.EffectiveScheme() != integrations.SchemeHMAC {
		return nil
	}
	return &vendorapi.Paste{
		Value: base64.StdEncoding.EncodeToString([]byte(secret)),
		Into:  "the ServiceNow system property " + KeyProperty + " (GlideCertificateEncryption.generateMac takes its key base64-encoded; hookgate keys HMAC-SHA256 with the secret itself)",
	}
}

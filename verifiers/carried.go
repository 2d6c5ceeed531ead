package verifiers

import (
	"net/http"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// CarriesCredential reports whether a delivery for vendor v carries the
// credential of any of v's schemes: a signature, token or password header,
// the Standard Webhooks signature, or a `token` query parameter. A
// delivery that brings one to an integration without a secret is refused:
// the vendor signs it, so the integration's secret went missing, and
// letting it in unsigned would open the integration silently.
func CarriesCredential(v integrations.Vendor, h http.Header, rawQuery string) bool {
	for _, s := range v.Schemes() {
		r, ok := lookup(v, s)
		if !ok {
			continue
		}
		switch r.Kind {
		case KindQueryToken:
			if _, missing, _ := queryToken(rawQuery); !missing {
				return true
			}
		case KindStandardWebhooks:
			if len(h.Values(hdrWebhookSignature)) > 0 {
				return true
			}
		default:
			if len(h.Values(r.Header)) > 0 {
				return true
			}
		}
	}
	return false
}

// SignsBodyOnly reports whether v's scheme s is a MAC of the body that
// does not cover the delivery id (GitHub, Bitbucket, Jira and ServiceNow
// `hmac`, the hex MACs): the same signed body can be sent again under any
// delivery id, so the body itself must be remembered to tell a replay.
// Standard Webhooks signs the id and a timestamp; token schemes sign
// nothing, and whoever holds the token can forge any body.
func SignsBodyOnly(v integrations.Vendor, s integrations.Scheme) bool {
	r, ok := lookup(v, s)
	if !ok {
		return false
	}
	return r.Kind == KindMethodHex || r.Kind == KindBase64MAC || r.Kind == KindHexMAC
}

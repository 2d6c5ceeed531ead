package verifiers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Sign produces what vendor v would send for body under scheme s: the
// headers to set, and a query string ("token=<secret>") for the query token
// schemes, "" otherwise. Body MAC schemes sign with the method the vendor
// uses by default (sha256; sha1 for GitHub's pinned hmac-sha1). Basic auth
// uses the user "hookgate". Standard Webhooks signs with webhookID and now;
// an empty webhookID is replaced by one derived from the body, so the same
// body and time always sign the same way.
//
// It serves tests, benchmarks, the demo's curl line and the send-test
// command; Verify accepts everything it produces.
func Sign(v integrations.Vendor, s integrations.Scheme, secret []byte, body []byte, now time.Time, webhookID string) (http.Header, string, error) {
	r, ok := lookup(v, s)
	if !ok {
		return nil, "", ErrSchemeNotSupported
	}
	if len(secret) == 0 {
		return nil, "", ErrNoSecret
	}
	h := http.Header{}
	switch r.Kind {
	case KindMethodHex:
		a := r.Accept & -r.Accept // lowest accepted method
		m := hmac.New(a.newHash(), secret)
		m.Write(body)
		h.Set(r.Header, a.method()+"="+hex.EncodeToString(m.Sum(nil)))
	case KindHexMAC:
		m := hmac.New(r.Accept.newHash(), secret)
		m.Write(body)
		h.Set(r.Header, hex.EncodeToString(m.Sum(nil)))
	case KindBase64MAC:
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		h.Set(r.Header, base64.StdEncoding.EncodeToString(m.Sum(nil)))
	case KindStandardWebhooks:
		key, ok := signingKey(secret)
		if !ok {
			return nil, "", ErrBadSigningSecret
		}
		if webhookID == "" {
			d := sha256.Sum256(body)
			webhookID = "msg_" + hex.EncodeToString(d[:12])
		}
		ts := strconv.FormatInt(now.Unix(), 10)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(webhookID + "." + ts + "."))
		m.Write(body)
		h.Set(hdrWebhookID, webhookID)
		h.Set(hdrWebhookTimestamp, ts)
		h.Set(hdrWebhookSignature, standardWebhooksV1+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	case KindHeaderToken:
		h.Set(r.Header, string(secret))
	case KindQueryToken:
		return h, queryTokenParam + "=" + url.QueryEscape(string(secret)), nil
	case KindBearer:
		h.Set(hdrAuthorization, "Bearer "+string(secret))
	case KindBasic:
		h.Set(hdrAuthorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(basicAuthUser+":"+string(secret))))
	}
	return h, "", nil
}

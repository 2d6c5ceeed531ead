package jira

import (
	"crypto/sha1" //nolint:gosec // building the legacy header and a refused one
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// TestMethodHexSchemes: Jira's webhook secret, sha256=<hex> in
// X-Hub-Signature and nothing else.
func TestMethodHexSchemes(t *testing.T) {
	body := []byte(verifierstest.Body)
	key := []byte(verifierstest.Secret)
	sha256Hex := hex.EncodeToString(verifierstest.MAC(sha256.New, key, body))
	sha1Hex := hex.EncodeToString(verifierstest.MAC(sha1.New, key, body))
	jira := verifierstest.Pair{Vendor: Vendor, Scheme: integrations.SchemeHMAC}

	cases := []verifierstest.Case{
		{Name: "jira valid", P: jira, Header: verifierstest.Hdr("X-Hub-Signature", "sha256="+sha256Hex), Want: verifiers.Valid},
		{Name: "jira sha1 refused", P: jira, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+sha1Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "jira sha256 header name ignored", P: jira, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex), Want: verifiers.Missing},
		{Name: "jira token query ignored", P: jira, Query: "token=" + verifierstest.Secret, Want: verifiers.Missing},
	}
	verifierstest.Run(t, cases)
}

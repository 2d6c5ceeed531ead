package github

import (
	"crypto/sha1" //nolint:gosec // building the legacy header and a refused one
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// The official vectors from VENDORS.md, checked against Verify. They are
// independent of Sign.
func TestGitHubOfficialVector(t *testing.T) {
	d := verifiers.Delivery{Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")}
	vd := verifiers.Verify(Vendor, integrations.SchemeHMAC, d, []byte("Hello, World!"), verifierstest.Secrets("It's a Secret to Everybody"))
	if !vd.OK() || vd.Previous {
		t.Fatalf("official GitHub vector: got %+v", vd)
	}
	vd = verifiers.Verify(Vendor, integrations.SchemeHMAC, d, []byte("Hello, World?"), verifierstest.Secrets("It's a Secret to Everybody"))
	if vd.Outcome != verifiers.Invalid || vd.Reason != verifiers.ReasonSignatureMismatch {
		t.Fatalf("tampered official vector: got %+v", vd)
	}
}

// TestSignGitHubOfficialVector: Sign reproduces the same vector.
func TestSignGitHubOfficialVector(t *testing.T) {
	h, q, err := verifiers.Sign(Vendor, integrations.SchemeHMAC, []byte("It's a Secret to Everybody"), []byte("Hello, World!"), verifierstest.Now, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("X-Hub-Signature-256"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want || q != "" {
		t.Fatalf("Sign: got %q, query %q; want %q", got, q, want)
	}
}

// TestMethodHexSchemes: GitHub's sha256 header, and the legacy sha1 header
// only under a record pinned to hmac-sha1, each accepting its method alone.
func TestMethodHexSchemes(t *testing.T) {
	body := []byte(verifierstest.Body)
	key := []byte(verifierstest.Secret)
	sha256Hex := hex.EncodeToString(verifierstest.MAC(sha256.New, key, body))
	sha1Hex := hex.EncodeToString(verifierstest.MAC(sha1.New, key, body))
	sha512Hex := hex.EncodeToString(verifierstest.MAC(sha512.New, key, body))
	gh := verifierstest.Pair{Vendor: Vendor, Scheme: integrations.SchemeHMAC}
	gh1 := verifierstest.Pair{Vendor: Vendor, Scheme: integrations.SchemeHMACSHA1}
	long := "sha256=" + sha256Hex + strings.Repeat(" ", verifiers.MaxCredentialBytes)

	cases := []verifierstest.Case{
		{Name: "github valid", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex), Want: verifiers.Valid},
		{Name: "github uppercase hex", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+strings.ToUpper(sha256Hex)), Want: verifiers.Valid},
		{Name: "github uppercase method", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "SHA256="+sha256Hex), Want: verifiers.Valid},
		{Name: "github bad hex", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256=zz"+sha256Hex[2:]), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "github truncated digest", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex[:62]), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "github odd length digest", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex[:63]), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "github overlong digest", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex+"00"), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "github no prefix", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", sha256Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "github empty digest", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
		{Name: "github sha1 prefix in the sha256 header", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha1="+sha1Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "github sha512 refused", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha512="+sha512Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "github unknown method", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "md5="+sha256Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "github wrong digest", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), Want: verifiers.Invalid, Reason: verifiers.ReasonSignatureMismatch},
		{Name: "github sha1 header ignored unless pinned", P: gh, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+sha1Hex), Want: verifiers.Missing, Reason: verifiers.ReasonSignatureMissing},
		{Name: "github valid sha1 does not rescue a bad sha256", P: gh, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+sha1Hex, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), Want: verifiers.Invalid},
		{Name: "github empty header is missing", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", ""), Want: verifiers.Missing},
		{Name: "github duplicate header", P: gh, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex, "X-Hub-Signature-256", "sha256="+sha256Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonDuplicateCredential},
		{Name: "github header too long", P: gh, Header: http.Header{"X-Hub-Signature-256": {long}}, Want: verifiers.Invalid, Reason: verifiers.ReasonCredentialTooLong},
		{Name: "github pinned sha1 valid", P: gh1, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+sha1Hex), Want: verifiers.Valid},
		{Name: "github pinned sha1 uppercase", P: gh1, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+strings.ToUpper(sha1Hex)), Want: verifiers.Valid},
		{Name: "github pinned sha1 ignores sha256 header", P: gh1, Header: verifierstest.Hdr("X-Hub-Signature-256", "sha256="+sha256Hex), Want: verifiers.Missing},
		{Name: "github pinned sha1 refuses sha256 method", P: gh1, Header: verifierstest.Hdr("X-Hub-Signature", "sha256="+sha256Hex), Want: verifiers.Invalid, Reason: verifiers.ReasonAlgorithmRefused},
		{Name: "github pinned sha1 truncated", P: gh1, Header: verifierstest.Hdr("X-Hub-Signature", "sha1="+sha1Hex[:38]), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedSignature},
	}
	verifierstest.Run(t, cases)
}

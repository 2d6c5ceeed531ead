package verifiers_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// TestVendorSchemeMatrix runs the cases every vendor × scheme must pass.
func TestVendorSchemeMatrix(t *testing.T) {
	body := []byte(testBodyStr)
	for _, p := range supportedPairs() {
		t.Run(p.String(), func(t *testing.T) {
			r, _ := verifiers.RuleOf(p.v, p.s)
			signed := signedDelivery(t, p, testSecret, body, testNow)

			if vd := verify(t, p, signed, body, secrets(testSecret)); !vd.OK() || vd.Previous {
				t.Errorf("valid: got %+v", vd)
			}
			if vd := verify(t, p, verifiers.Delivery{Header: http.Header{}, Now: testNow}, body, secrets(testSecret)); vd.Outcome != verifiers.Missing {
				t.Errorf("missing: got %+v", vd)
			}
			if vd := verify(t, p, signedDelivery(t, p, testOther, body, testNow), body, secrets(testSecret)); vd.Outcome != verifiers.Invalid {
				t.Errorf("wrong secret: got %+v", vd)
			}
			tampered := bytes.Clone(body)
			tampered[len(tampered)/2] ^= 0x20
			vd := verify(t, p, signed, tampered, secrets(testSecret))
			if r.Kind.BodyMAC() && (vd.Outcome != verifiers.Invalid || vd.Reason != verifiers.ReasonSignatureMismatch) {
				t.Errorf("tampered body under a body MAC: got %+v", vd)
			}
			if !r.Kind.BodyMAC() && !vd.OK() {
				t.Errorf("token schemes do not cover the body: got %+v", vd)
			}

			byPrev := signedDelivery(t, p, testPrev, body, testNow)
			if vd := verify(t, p, byPrev, body, verifiers.Secrets{Current: []byte(testSecret), Previous: []byte(testPrev)}); !vd.OK() || !vd.Previous {
				t.Errorf("previous secret during overlap: got %+v", vd)
			}
			if vd := verify(t, p, signed, body, verifiers.Secrets{Current: []byte(testSecret), Previous: []byte(testPrev)}); !vd.OK() || vd.Previous {
				t.Errorf("current secret during overlap: got %+v", vd)
			}
			if vd := verify(t, p, byPrev, body, verifiers.Secrets{Current: []byte(testSecret), Previous: []byte{}}); vd.Outcome != verifiers.Invalid {
				t.Errorf("previous secret after overlap: got %+v", vd)
			}
			if vd := verify(t, p, signed, body, verifiers.Secrets{}); vd.Outcome != verifiers.Invalid || vd.Reason != verifiers.ReasonNoSecret {
				t.Errorf("no current secret: got %+v", vd)
			}

			// A pinned scheme accepts nothing else: each sibling scheme's
			// credential, made with the right secret, is refused.
			for _, other := range schemesOf(p.v) {
				if other == p.s {
					continue
				}
				od := signedDelivery(t, pair{p.v, other}, testSecret, body, testNow)
				if vd := verify(t, p, od, body, secrets(testSecret)); vd.OK() {
					t.Errorf("pinned %s accepted the %s credential", p.s, other)
				}
			}
		})
	}
}

func TestSchemeNotSupported(t *testing.T) {
	body := []byte(testBodyStr)
	gh := signedDelivery(t, pair{integrations.GitHub, integrations.SchemeHMAC}, testSecret, body, testNow)
	for _, p := range []pair{
		{"nosuch", integrations.SchemeHMAC},
		{integrations.GitHub, ""},
		{integrations.GitHub, "HMAC"},
		{integrations.GitHub, integrations.SchemeToken},
		{integrations.Bamboo, integrations.SchemeBearer},
		{integrations.Bitbucket, integrations.SchemeHMACSHA1},
	} {
		vd := verify(t, p, gh, body, secrets(testSecret))
		if vd.Outcome != verifiers.Invalid || vd.Reason != verifiers.ReasonSchemeNotSupported {
			t.Errorf("%s: got %+v", p, vd)
		}
		if _, _, err := verifiers.Sign(p.v, p.s, []byte(testSecret), body, testNow, ""); err != verifiers.ErrSchemeNotSupported {
			t.Errorf("Sign %s: err %v", p, err)
		}
	}
}

func TestTokenSchemes(t *testing.T) {
	const tok = "tok-3f9a1c"
	basic := func(userpass string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass)) }
	sec := secrets(tok)
	sn := verifierstest.Pair{Vendor: integrations.ServiceNow, Scheme: integrations.SchemeBearer}
	az := verifierstest.Pair{Vendor: integrations.AzureDevOps, Scheme: integrations.SchemeBasic}
	jk := verifierstest.Pair{Vendor: integrations.Jenkins, Scheme: integrations.SchemeToken}
	bam := verifierstest.Pair{Vendor: integrations.Bamboo, Scheme: integrations.SchemeToken}
	gl := verifierstest.Pair{Vendor: integrations.GitLab, Scheme: integrations.SchemeToken}
	jira := verifierstest.Pair{Vendor: integrations.Jira, Scheme: integrations.SchemeToken}
	me := verifierstest.Pair{Vendor: integrations.ManageEngine, Scheme: integrations.SchemeToken}
	verifierstest.Run(t, []verifierstest.Case{
		{Name: "bearer", P: sn, Header: hdr("Authorization", "Bearer "+tok), Sec: sec, Want: verifiers.Valid},
		{Name: "bearer lowercase word", P: sn, Header: hdr("Authorization", "bearer "+tok), Sec: sec, Want: verifiers.Valid},
		{Name: "bearer uppercase word", P: sn, Header: hdr("Authorization", "BEARER "+tok), Sec: sec, Want: verifiers.Valid},
		{Name: "bearer extra spaces", P: sn, Header: hdr("Authorization", "Bearer   "+tok+" "), Sec: sec, Want: verifiers.Valid},
		{Name: "bearer wrong token", P: sn, Header: hdr("Authorization", "Bearer "+tok+"x"), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonTokenMismatch},
		{Name: "bearer prefix of token", P: sn, Header: hdr("Authorization", "Bearer "+tok[:5]), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonTokenMismatch},
		{Name: "bearer word only", P: sn, Header: hdr("Authorization", "Bearer"), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedAuthorization},
		{Name: "bearer without word", P: sn, Header: hdr("Authorization", tok), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedAuthorization},
		{Name: "token word refused", P: sn, Header: hdr("Authorization", "Token "+tok), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonWrongAuthorizationScheme},
		{Name: "basic under bearer", P: sn, Header: hdr("Authorization", basic("hookgate:"+tok)), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonWrongAuthorizationScheme},
		{Name: "two authorization headers", P: sn, Header: hdr("Authorization", "Bearer "+tok, "Authorization", "Bearer "+tok), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonDuplicateCredential},
		{Name: "bearer missing", P: sn, Header: hdr("X-Api-Token", tok), Sec: sec, Want: verifiers.Missing, Reason: verifiers.ReasonAuthorizationMissing},
		{Name: "basic", P: az, Header: hdr("Authorization", basic("hookgate:"+tok)), Sec: sec, Want: verifiers.Valid},
		{Name: "basic any user", P: az, Header: hdr("Authorization", basic("azure:"+tok)), Sec: sec, Want: verifiers.Valid},
		{Name: "basic lowercase word", P: az, Header: hdr("Authorization", "basic "+base64.StdEncoding.EncodeToString([]byte("u:"+tok))), Sec: sec, Want: verifiers.Valid},
		{Name: "basic password with colon", P: az, Header: hdr("Authorization", basic("u:a:b")), Sec: secrets("a:b"), Want: verifiers.Valid},
		{Name: "basic wrong password", P: az, Header: hdr("Authorization", basic("hookgate:nope")), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonTokenMismatch},
		{Name: "basic secret as user", P: az, Header: hdr("Authorization", basic(tok+":")), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonTokenMismatch},
		{Name: "basic no colon", P: az, Header: hdr("Authorization", basic(tok)), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedAuthorization},
		{Name: "basic bad base64", P: az, Header: hdr("Authorization", "Basic %%%"), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedAuthorization},
		{Name: "bearer under basic", P: az, Header: hdr("Authorization", "Bearer "+tok), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonWrongAuthorizationScheme},
		{Name: "jenkins token", P: jk, Header: hdr("X-Api-Token", tok), Sec: sec, Want: verifiers.Valid},
		{Name: "jenkins token wrong", P: jk, Header: hdr("X-Api-Token", "x"), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonTokenMismatch},
		{Name: "jenkins token in authorization ignored", P: jk, Header: hdr("Authorization", "Bearer "+tok), Sec: sec, Want: verifiers.Missing, Reason: verifiers.ReasonTokenMissing},
		{Name: "bamboo token", P: bam, Header: hdr("X-Bamboo-Token", tok), Sec: sec, Want: verifiers.Valid},
		{Name: "bamboo token empty", P: bam, Header: hdr("X-Bamboo-Token", "  "), Sec: sec, Want: verifiers.Missing},
		{Name: "gitlab token", P: gl, Header: hdr("X-Gitlab-Token", tok), Sec: sec, Want: verifiers.Valid},
		{Name: "gitlab token previous", P: gl, Header: hdr("X-Gitlab-Token", "old"), Sec: verifiers.Secrets{Current: []byte(tok), Previous: []byte("old")}, Want: verifiers.Valid, Previous: true},
		{Name: "gitlab token current equals previous", P: gl, Header: hdr("X-Gitlab-Token", tok), Sec: verifiers.Secrets{Current: []byte(tok), Previous: []byte(tok)}, Want: verifiers.Valid},
		{Name: "gitlab token in query ignored", P: gl, Query: "token=" + tok, Sec: sec, Want: verifiers.Missing},
		{Name: "query token", P: jira, Query: "token=" + tok, Sec: sec, Want: verifiers.Valid},
		{Name: "query token among others", P: jira, Query: "user_id=5&token=" + tok + "&issue=SEC-1", Sec: sec, Want: verifiers.Valid},
		{Name: "query token escaped key", P: jira, Query: "%74oken=" + tok, Sec: sec, Want: verifiers.Valid},
		{Name: "query token escaped value", P: me, Query: "token=a%2Bb%26c", Sec: secrets("a+b&c"), Want: verifiers.Valid},
		{Name: "query token plus is space", P: me, Query: "token=a+b", Sec: secrets("a b"), Want: verifiers.Valid},
		{Name: "query token wrong", P: jira, Query: "token=nope", Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonTokenMismatch},
		{Name: "query token duplicate refused", P: jira, Query: "token=" + tok + "&token=" + tok, Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonDuplicateCredential},
		{Name: "query token duplicate by escape refused", P: jira, Query: "token=nope&%74oken=" + tok, Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonDuplicateCredential},
		{Name: "query token bad escape", P: jira, Query: "token=%zz", Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedQuery},
		{Name: "query token empty", P: jira, Query: "token=", Sec: sec, Want: verifiers.Missing, Reason: verifiers.ReasonTokenMissing},
		{Name: "query token bare key", P: jira, Query: "token", Sec: sec, Want: verifiers.Missing},
		{Name: "query token absent", P: jira, Query: "tokens=" + tok + "&xtoken=" + tok, Sec: sec, Want: verifiers.Missing},
		{Name: "query token case matters", P: jira, Query: "Token=" + tok, Sec: sec, Want: verifiers.Missing},
		{Name: "query semicolon is not a separator", P: jira, Query: "a=1;token=" + tok, Sec: sec, Want: verifiers.Missing},
		{Name: "query too long", P: jira, Query: "token=" + tok + "&pad=" + strings.Repeat("a", verifiers.MaxCredentialBytes), Sec: sec, Want: verifiers.Invalid, Reason: verifiers.ReasonCredentialTooLong},
		{Name: "query token in header ignored", P: me, Header: hdr("Authorization", "Bearer "+tok), Sec: sec, Want: verifiers.Missing},
	})
}

// TestCheckReuse runs one Check through vendors and secrets in turn, so a
// cached HMAC state can never verify for another secret or algorithm.
func TestCheckReuse(t *testing.T) {
	body := []byte(testBodyStr)
	var c verifiers.Check
	if vd := c.Verdict(); vd.Outcome != verifiers.Invalid || vd.Reason != verifiers.ReasonNotPrepared {
		t.Fatalf("zero Check: %+v", vd)
	}
	c.Write(body) // harmless on a zero Check
	secretsSeq := []string{testSecret, testSecret, testOther, testSecret, testPrev}
	for round := 0; round < 2; round++ {
		for _, p := range supportedPairs() {
			for i, s := range secretsSeq {
				d := signedDelivery(t, p, secretsSeq[(i+1)%len(secretsSeq)], body, testNow)
				want := s == secretsSeq[(i+1)%len(secretsSeq)]
				c.Reset(p.v, p.s, d, secrets(s))
				c.Write(body)
				if got := c.Verdict().OK(); got != want {
					t.Fatalf("round %d %s secret %d: OK=%v want %v", round, p, i, got, want)
				}
				if c.Verdict().OK() != want {
					t.Fatalf("Verdict is not idempotent")
				}
			}
		}
	}
}

func TestSignErrors(t *testing.T) {
	if _, _, err := verifiers.Sign(integrations.GitHub, integrations.SchemeHMAC, nil, nil, testNow, ""); err != verifiers.ErrNoSecret {
		t.Errorf("empty secret: %v", err)
	}
	if _, _, err := verifiers.Sign(integrations.GitLab, integrations.SchemeSigning, []byte("whsec_***"), nil, testNow, ""); err != verifiers.ErrBadSigningSecret {
		t.Errorf("bad signing secret: %v", err)
	}
	h1, _, _ := verifiers.Sign(integrations.GitLab, integrations.SchemeSigning, []byte(testSecret), []byte("a"), testNow, "")
	h2, _, _ := verifiers.Sign(integrations.GitLab, integrations.SchemeSigning, []byte(testSecret), []byte("a"), testNow, "")
	if h1.Get("Webhook-Id") == "" || h1.Get("Webhook-Id") != h2.Get("Webhook-Id") {
		t.Errorf("derived webhook ids: %q %q", h1.Get("Webhook-Id"), h2.Get("Webhook-Id"))
	}
}

// TestSignRoundTrip: whatever Sign produces, Verify accepts, for every
// vendor × scheme and a few bodies (empty, binary, large).
func TestSignRoundTrip(t *testing.T) {
	bodies := [][]byte{nil, []byte("{}"), []byte(testBodyStr), {0, 0xff, '\n', 0x80}, bytes.Repeat([]byte("x"), 1<<20)}
	secretsList := []string{testSecret, "c2hvcnQ=", "plain-token-0123456789", "with space+plus&amp=eq"}
	for _, p := range supportedPairs() {
		for _, s := range secretsList {
			if p.s == integrations.SchemeSigning {
				if _, ok := verifiers.SigningKey([]byte(s)); !ok {
					continue
				}
			}
			for _, b := range bodies {
				d := signedDelivery(t, p, s, b, testNow)
				if vd := verify(t, p, d, b, secrets(s)); !vd.OK() {
					t.Errorf("%s secret %q body %d bytes: %+v", p, s, len(b), vd)
				}
			}
		}
	}
}

// TestSettledBeforeBody checks what the headers alone decide, for every
// vendor and scheme: a missing or wrong credential under a token scheme,
// and a missing credential under any scheme, is settled before a byte of
// body; a body MAC with a well-formed signature never is, and a settled
// verdict is the one Verdict gives after the body.
func TestSettledBeforeBody(t *testing.T) {
	body := []byte(testBodyStr)
	for _, p := range supportedPairs() {
		t.Run(p.String(), func(t *testing.T) {
			r, _ := verifiers.RuleOf(p.v, p.s)
			cases := []struct {
				name string
				d    verifiers.Delivery
			}{
				{"valid", signedDelivery(t, p, testSecret, body, testNow)},
				{"wrong secret", signedDelivery(t, p, testOther, body, testNow)},
				{"missing", verifiers.Delivery{Header: http.Header{}, Now: testNow}},
			}
			for _, tc := range cases {
				var c verifiers.Check
				c.Reset(p.v, p.s, tc.d, secrets(testSecret))
				settled, ok := c.Settled()
				switch {
				case tc.name == "missing" && (!ok || settled.Outcome != verifiers.Missing):
					t.Errorf("%s: settled=%v %+v, want Missing before the body", tc.name, ok, settled)
				case tc.name != "missing" && r.Kind.BodyMAC() && ok:
					t.Errorf("%s: a body MAC was settled before the body: %+v", tc.name, settled)
				case tc.name != "missing" && !r.Kind.BodyMAC() && !ok:
					t.Errorf("%s: a %s credential was not settled by the headers", tc.name, p.s)
				}
				c.Write(body)
				if after := c.Verdict(); ok && after != settled {
					t.Errorf("%s: settled %+v, but Verdict after the body says %+v", tc.name, settled, after)
				}
			}
		})
	}
}

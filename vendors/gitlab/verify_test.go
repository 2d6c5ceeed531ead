package gitlab

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
	"github.com/hookgate/caddy-hookgate/verifiers/verifierstest"
)

// TestStandardWebhooksOfficialVector: the Standard Webhooks specification's
// vector verifies under GitLab's signing scheme with the secret in either
// form, and not six minutes later. Independent of Sign.
func TestStandardWebhooksOfficialVector(t *testing.T) {
	const ts = 1614265330
	h := verifierstest.Hdr(
		"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		"webhook-timestamp", "1614265330",
		"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	)
	body := []byte(`{"test": 2432232314}`)
	for _, secret := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		vd := verifiers.Verify(Vendor, integrations.SchemeSigning, verifiers.Delivery{Header: h, Now: time.Unix(ts, 0)}, body, verifierstest.Secrets(secret))
		if !vd.OK() {
			t.Fatalf("official Standard Webhooks vector with secret form %d: got %+v", len(secret), vd)
		}
	}
	vd := verifiers.Verify(Vendor, integrations.SchemeSigning, verifiers.Delivery{Header: h, Now: time.Unix(ts+6*60, 0)}, body, verifierstest.Secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	if vd.Outcome != verifiers.Invalid || vd.Reason != verifiers.ReasonTimestampOutsideWindow {
		t.Fatalf("official vector 6 minutes later: got %+v", vd)
	}
}

// TestStandardWebhooksTolerance: Delivery.Tolerance replaces the 5 minute
// window, in both directions, for Verify and the streamed Check alike.
func TestStandardWebhooksTolerance(t *testing.T) {
	const ts = 1614265330
	h := verifierstest.Hdr(
		"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		"webhook-timestamp", "1614265330",
		"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	)
	body := []byte(`{"test": 2432232314}`)
	sec := verifierstest.Secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	for _, tc := range []struct {
		skew, tolerance time.Duration
		ok              bool
	}{
		{20 * time.Minute, 30 * time.Minute, true},
		{-20 * time.Minute, 30 * time.Minute, true},
		{31 * time.Minute, 30 * time.Minute, false},
		{2 * time.Minute, time.Minute, false},
		{4 * time.Minute, 0, true},
		{6 * time.Minute, 0, false},
	} {
		d := verifiers.Delivery{Header: h, Now: time.Unix(ts, 0).Add(tc.skew), Tolerance: tc.tolerance}
		vd := verifiers.Verify(Vendor, integrations.SchemeSigning, d, body, sec)
		var c verifiers.Check
		c.Reset(Vendor, integrations.SchemeSigning, d, sec)
		c.Write(body)
		if vd.OK() != tc.ok || c.Verdict().OK() != tc.ok {
			t.Errorf("skew %v, tolerance %v: Verify %+v, Check %+v; want ok %v", tc.skew, tc.tolerance, vd, c.Verdict(), tc.ok)
		}
		if !tc.ok && vd.Reason != verifiers.ReasonTimestampOutsideWindow {
			t.Errorf("skew %v, tolerance %v: reason %q", tc.skew, tc.tolerance, vd.Reason)
		}
	}
}

// TestSignStandardWebhooksOfficialVector: Sign reproduces the same vector.
func TestSignStandardWebhooksOfficialVector(t *testing.T) {
	h, _, err := verifiers.Sign(Vendor, integrations.SchemeSigning, []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
		[]byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), "msg_p5jXN8AQM9LWM0D4loKWxJek")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Webhook-Signature"); got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign: got %q", got)
	}
	if h.Get("Webhook-Timestamp") != "1614265330" || h.Get("Webhook-Id") != "msg_p5jXN8AQM9LWM0D4loKWxJek" {
		t.Fatalf("Sign headers: %v", h)
	}
}

// stdHeaders are the three Standard Webhooks headers.
func stdHeaders(id, ts, sig string) http.Header {
	return verifierstest.Hdr("Webhook-Id", id, "Webhook-Timestamp", ts, "Webhook-Signature", sig)
}

// TestStandardWebhooks: GitLab signing tokens, the signature list, the
// ±5 minute window, the timestamp form and the three headers.
func TestStandardWebhooks(t *testing.T) {
	gl := verifierstest.Pair{Vendor: Vendor, Scheme: integrations.SchemeSigning}
	body := []byte(verifierstest.Body)
	signAt := func(secret string, at time.Time) http.Header {
		h, _, err := verifiers.Sign(gl.Vendor, gl.Scheme, []byte(secret), body, at, "msg_1")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	good := signAt(verifierstest.Secret, verifierstest.Now)
	ts := good.Get("Webhook-Timestamp")
	sig := good.Get("Webhook-Signature")
	other := signAt(verifierstest.Other, verifierstest.Now).Get("Webhook-Signature")
	many := strings.Repeat(other+" ", verifiers.MaxSignatures) + sig
	cases := []verifierstest.Case{
		{Name: "valid", P: gl, Header: good, Want: verifiers.Valid},
		{Name: "several signatures, the last valid", P: gl, Header: stdHeaders("msg_1", ts, other+" v1,bm90LWJhc2U2NA== v2,"+sig[3:]+" "+sig), Want: verifiers.Valid},
		{Name: "several signatures, the first valid", P: gl, Header: stdHeaders("msg_1", ts, sig+"  "+other), Want: verifiers.Valid},
		{Name: "several signatures, none valid", P: gl, Header: stdHeaders("msg_1", ts, other+" "+other), Want: verifiers.Invalid, Reason: verifiers.ReasonSignatureMismatch},
		{Name: "other versions ignored", P: gl, Header: stdHeaders("msg_1", ts, "v1a,"+sig[3:]+" v2,"+sig[3:]), Want: verifiers.Invalid, Reason: verifiers.ReasonNoSupportedSignature},
		{Name: "unversioned refused", P: gl, Header: stdHeaders("msg_1", ts, sig[3:]), Want: verifiers.Invalid, Reason: verifiers.ReasonNoSupportedSignature},
		{Name: "16 entries accepted", P: gl, Header: stdHeaders("msg_1", ts, strings.Repeat(other+" ", verifiers.MaxSignatures-1)+sig), Want: verifiers.Valid},
		{Name: "17 entries refused", P: gl, Header: stdHeaders("msg_1", ts, many), Want: verifiers.Invalid, Reason: verifiers.ReasonTooManySignatures},
		{Name: "timestamp +6min refused", P: gl, Header: signAt(verifierstest.Secret, verifierstest.Now.Add(6*time.Minute)), Want: verifiers.Invalid, Reason: verifiers.ReasonTimestampOutsideWindow},
		{Name: "timestamp -6min refused", P: gl, Header: signAt(verifierstest.Secret, verifierstest.Now.Add(-6*time.Minute)), Want: verifiers.Invalid, Reason: verifiers.ReasonTimestampOutsideWindow},
		{Name: "timestamp +4min accepted", P: gl, Header: signAt(verifierstest.Secret, verifierstest.Now.Add(4*time.Minute)), Want: verifiers.Valid},
		{Name: "timestamp -4min accepted", P: gl, Header: signAt(verifierstest.Secret, verifierstest.Now.Add(-4*time.Minute)), Want: verifiers.Valid},
		{Name: "timestamp exactly +5min accepted", P: gl, Header: signAt(verifierstest.Secret, verifierstest.Now.Add(5*time.Minute)), Want: verifiers.Valid},
		{Name: "timestamp +5min1s refused", P: gl, Header: signAt(verifierstest.Secret, verifierstest.Now.Add(5*time.Minute+time.Second)), Want: verifiers.Invalid, Reason: verifiers.ReasonTimestampOutsideWindow},
		{Name: "non-numeric timestamp", P: gl, Header: stdHeaders("msg_1", "yesterday", sig), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedTimestamp},
		{Name: "signed timestamp", P: gl, Header: stdHeaders("msg_1", "+"+ts, sig), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedTimestamp},
		{Name: "fractional timestamp", P: gl, Header: stdHeaders("msg_1", ts+".0", sig), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedTimestamp},
		{Name: "huge timestamp", P: gl, Header: stdHeaders("msg_1", strings.Repeat("9", 40), sig), Want: verifiers.Invalid, Reason: verifiers.ReasonMalformedTimestamp},
		{Name: "millisecond timestamp", P: gl, Header: stdHeaders("msg_1", ts+"000", sig), Want: verifiers.Invalid, Reason: verifiers.ReasonTimestampOutsideWindow},
		{Name: "id changed", P: gl, Header: stdHeaders("msg_2", ts, sig), Want: verifiers.Invalid, Reason: verifiers.ReasonSignatureMismatch},
		{Name: "missing id", P: gl, Header: verifierstest.Hdr("Webhook-Timestamp", ts, "Webhook-Signature", sig), Want: verifiers.Invalid, Reason: verifiers.ReasonIncompleteSigningHeaders},
		{Name: "missing timestamp", P: gl, Header: verifierstest.Hdr("Webhook-Id", "msg_1", "Webhook-Signature", sig), Want: verifiers.Invalid, Reason: verifiers.ReasonIncompleteSigningHeaders},
		{Name: "missing signature", P: gl, Header: verifierstest.Hdr("Webhook-Id", "msg_1", "Webhook-Timestamp", ts), Want: verifiers.Missing, Reason: verifiers.ReasonSignatureMissing},
		{Name: "duplicate timestamp", P: gl, Header: http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {ts, ts}, "Webhook-Signature": {sig}}, Want: verifiers.Invalid, Reason: verifiers.ReasonDuplicateCredential},
		{Name: "gitlab token ignored", P: gl, Header: verifierstest.Hdr("X-Gitlab-Token", verifierstest.Secret), Want: verifiers.Missing},
		{Name: "bad signing secret", P: gl, Header: good, Sec: verifierstest.Secrets("whsec_not*base64!"), Want: verifiers.Invalid, Reason: verifiers.ReasonBadSigningSecret},
		{Name: "bad previous secret ignored", P: gl, Header: good, Sec: verifiers.Secrets{Current: []byte(verifierstest.Secret), Previous: []byte("whsec_%%%")}, Want: verifiers.Valid},
		{Name: "previous", P: gl, Header: signAt(verifierstest.Previous, verifierstest.Now), Sec: verifiers.Secrets{Current: []byte(verifierstest.Secret), Previous: []byte(verifierstest.Previous)}, Want: verifiers.Valid, Previous: true},
	}
	verifierstest.Run(t, cases)
}

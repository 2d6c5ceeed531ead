package caddymodule

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// TestSendTestSamples: each registered vendor's send-test delivery (the
// sample its package registered with vendorapi) verifies under every
// scheme of the vendor and normalizes without error, so it reaches the
// next handler instead of a 400.
func TestSendTestSamples(t *testing.T) {
	now := time.Now()
	if len(integrations.Vendors()) == 0 {
		t.Fatal("no vendor registered")
	}
	for _, v := range integrations.Vendors() {
		for _, s := range v.Schemes() {
			secret, err := integrations.NewSecret(v, s)
			if err != nil {
				t.Fatal(err)
			}
			req, err := sendTestRequest(v, s, []byte(secret), "http://127.0.0.1:1/"+strings.TrimPrefix(v.ReceiverPath("x"), "/"), now)
			if err != nil {
				t.Fatalf("%s/%s: %v", v, s, err)
			}
			body, _ := io.ReadAll(req.Body)
			if strings.Contains(string(body), "{delivery}") || strings.Contains(string(body), "{now") {
				t.Fatalf("%s: placeholder left in the body", v)
			}
			vd := verifiers.Verify(v, s, verifiers.Delivery{Header: req.Header, RawQuery: req.URL.RawQuery, Now: now}, body, verifiers.Secrets{Current: []byte(secret)})
			if !vd.OK() {
				t.Errorf("%s/%s: sample does not verify: %s", v, s, vd.Reason)
			}
			ident := events.Identify(v, s, req.Header, body)
			n, err := events.NormalizeDelivery(events.Delivery{Vendor: v, Integration: "x", Header: req.Header, Body: body, Identity: ident,
				DeliveryKey: events.DeliveryKey("x", ident.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: now})
			if err != nil {
				t.Errorf("%s: sample does not normalize: %v", v, err)
			}
			// A sample states its send time, so a default max_age lets it in.
			if at := n.Facts.EventTime; !at.IsZero() && now.Sub(at) > time.Minute {
				t.Errorf("%s: sample's event time %v is not its send time %v", v, at, now)
			}
		}
	}
}

// TestSendTestWithoutSample: a vendor that registered no sample is refused
// with an error saying so, before anything is signed or sent.
func TestSendTestWithoutSample(t *testing.T) {
	_, err := sendTestRequest("svn", integrations.SchemeHMAC, []byte("s"), "http://127.0.0.1:1/webhooks/ci/svn/x", time.Now())
	if err == nil || !strings.Contains(err.Error(), "no send-test sample") || !strings.Contains(err.Error(), `"svn"`) {
		t.Fatalf("err = %v, want the missing sample named", err)
	}
}

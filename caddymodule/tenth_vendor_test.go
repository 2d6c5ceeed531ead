// The tenth vendor: Gitea, defined in this file and nowhere else. It proves
// that a vendor costs one folder (this file's init is what
// vendors/gitea/*.go would hold) and one import line, and that everything
// else (receiver paths, the record check, verification, identification,
// normalization, annotations, credential stripping, the outbox, send-test's
// sample) follows from what it registers.

package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// gitea is the tenth vendor's name.
const gitea integrations.Vendor = "gitea"

// giteaPush is a Gitea push delivery in Gitea's documented shape.
const giteaPush = `{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",` +
	`"after":"2222222222222222222222222222222222222222","repository":{"full_name":"acme/widgets"},` +
	`"pusher":{"login":"alice"}}`

func init() {
	integrations.Register(integrations.Spec{Vendor: gitea, Schemes: []integrations.Scheme{integrations.SchemeHMAC}})
	verifiers.Register(gitea, integrations.SchemeHMAC, verifiers.Rule{Kind: verifiers.KindHexMAC, Header: "X-Gitea-Signature", Accept: verifiers.AlgSHA256})
	events.Register(gitea, events.Rules{Identify: giteaIdentify, Normalize: giteaNormalize})
	vendorapi.RegisterVendor(gitea, vendorapi.Spec{
		ManualSteps: func(m *vendorapi.Manual) {
			m.Line("Gitea: Settings > Webhooks > Add Webhook > Gitea, target URL %s", m.URL)
		},
		Sample: &vendorapi.Sample{Body: giteaPush, Headers: map[string]string{"X-Gitea-Event": "push", "X-Gitea-Delivery": vendorapi.DeliveryPlaceholder}},
	})
}

func giteaIdentify(_ integrations.Scheme, h http.Header, _ []byte) events.Identity {
	return events.Identity{Event: h.Get("X-Gitea-Event"), Delivery: h.Get("X-Gitea-Delivery")}
}

func giteaNormalize(in *events.Input) ([]events.Event, string, error) {
	if in.Event != "push" {
		return nil, "gitea event is not used", nil
	}
	var b struct {
		Ref        string `json:"ref"`
		After      string `json:"after"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Pusher struct {
			Login string `json:"login"`
		} `json:"pusher"`
	}
	if err := events.Decode(in.Body, &b); err != nil {
		return nil, "", err
	}
	typ, branch := events.RefKind(b.Ref)
	return []events.Event{in.CIEvent(typ, b.Ref, time.Time{}, events.CI{
		Repository: b.Repository.FullName, Branch: branch, Commit: b.After, Actor: b.Pusher.Login,
	})}, "", nil
}

// TestTenthVendorEndToEnd: a vendor registered only in a test file is
// known, routed, verified, annotated and normalized into the outbox by the
// handler, refused when unsigned or forged, and has a send-test sample.
func TestTenthVendorEndToEnd(t *testing.T) {
	if !slices.Contains(integrations.Vendors(), gitea) || !gitea.IsCI() {
		t.Fatalf("gitea is not a registered CI vendor: %v", integrations.Vendors())
	}
	if v, id, ok := receiverFromPath("/webhooks/ci/gitea/gt-1"); !ok || v != gitea || id != "gt-1" {
		t.Fatalf("receiver path: %v %q %v", v, id, ok)
	}
	if s, ok := vendorapi.SampleOf(gitea); !ok || s.Body != giteaPush {
		t.Fatal("send-test has no sample for gitea")
	}

	a := &App{MaxAge: "off", AllowUnsigned: "false", MaxBody: testMaxBody,
		Integrations: map[string]IntegrationConfig{"gt-1": {Vendor: "gitea", Secret: "gitea-secret-1"}},
		Upstream:     &UpstreamConfig{URL: "http://127.0.0.1:1/v1/events"}}
	if err := provisionApp(t, a); err != nil {
		t.Fatalf("App.Provision: %v", err)
	}
	mem := isolateState(a)
	vc := vendorCase{
		id: "gt-1", vendor: gitea, secret: "gitea-secret-1", bodyMAC: true, body: giteaPush,
		header: map[string]string{"X-Gitea-Event": "push", "X-Gitea-Delivery": "gt-delivery-1"},
		event:  "push", delivery: "gt-delivery-1",
	}

	h, _ := newTestHandler(a)
	res := serve(t, h, validRequest(t, vc))
	wantPassed(t, res, vc, "true", []byte(vc.body))
	if got := res.next.header.Get("X-Gitea-Signature"); got == "" {
		t.Error("the body MAC header was stripped; only credentials are")
	}
	ps, err := mem.Next(context.Background(), "test", 10, 0, time.Minute)
	if err != nil || len(ps) == 0 {
		t.Fatalf("outbox after a verified gitea push: %d events, %v", len(ps), err)
	}
	var ev events.Event
	if err := json.Unmarshal(ps[0].Event.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != events.TypePush || ev.Source.Vendor != "gitea" || ev.CI == nil ||
		ev.CI.Repository != "acme/widgets" || ev.CI.Branch != "main" || ev.CI.Commit != "2222222222222222222222222222222222222222" {
		t.Fatalf("event %+v (ci %+v)", ev, ev.CI)
	}

	h, _ = newTestHandler(a)
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, "", vc.path(), []byte(vc.body))))
	h, _ = newTestHandler(a)
	wantUnauthorized(t, serve(t, h, signedRequest(t, vc, "wrong", vc.path(), []byte(vc.body))))
}

// Handler tests: what the next handler sees. Credentials kept on request or
// stripped (escaped query tokens too), and the event id annotation.

package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/events"
)

func TestHandlerKeepCredentials(t *testing.T) {
	app := newTestApp(t, false)
	for _, id := range []string{"gl-1", "jira-1", "sn-1", "jk-1", "bam-1"} {
		vc := caseByID(t, id)
		t.Run(id, func(t *testing.T) {
			h, _ := newTestHandler(app)
			h.KeepCredentials = true
			r := validRequest(t, vc)
			wantRaw := r.URL.RawQuery
			res := serve(t, h, r)
			wantPassed(t, res, vc, "true", []byte(vc.body))
			if res.next.rawQuery != wantRaw {
				t.Errorf("query %q, want %q kept", res.next.rawQuery, wantRaw)
			}
			found := wantRaw != ""
			for _, k := range credentialHeaders() {
				if res.next.header.Get(k) != "" {
					found = true
				}
			}
			if !found {
				t.Error("keep_credentials: the credential was removed anyway")
			}
		})
	}
}

// The Jira token travels in the query. The verifier reads the parameter
// name unescaped, so an escaped name is the credential as well; it must not
// reach the next handler either.
func TestHandlerStripsEscapedQueryToken(t *testing.T) {
	vc := caseByID(t, "jira-1")
	for _, q := range []string{
		"token=" + url.QueryEscape(vc.secret),
		"%74oken=" + url.QueryEscape(vc.secret),
		"x=1&to%6Ben=" + url.QueryEscape(vc.secret),
	} {
		t.Run(q, func(t *testing.T) {
			h, _ := newTestHandler(newTestApp(t, false))
			r := httptest.NewRequest(http.MethodPost, vc.path()+"?"+q, strings.NewReader(vc.body))
			for k, v := range vc.header {
				r.Header.Set(k, v)
			}
			res := serve(t, h, r)
			wantPassed(t, res, vc, "true", []byte(vc.body))
			if strings.Contains(res.next.rawQuery, vc.secret) || strings.Contains(res.next.requestURI, vc.secret) {
				t.Errorf("the token reached the next handler: RawQuery %q, RequestURI %q", res.next.rawQuery, res.next.requestURI)
			}
		})
	}
}

// The event id annotation is the primary normalized event's id: stable for
// the same delivery, different for another one.
func TestHandlerEventIDStable(t *testing.T) {
	vc := caseByID(t, "gh-1")
	ids := map[string]bool{}
	for _, delivery := range []string{"d-1", "d-1", "d-2"} {
		h, _ := newTestHandler(newTestApp(t, false))
		r := validRequest(t, vc)
		r.Header.Set("X-GitHub-Delivery", delivery)
		res := serve(t, h, r)
		want := vc
		want.delivery = delivery
		wantPassed(t, res, want, "true", []byte(vc.body))
		ids[res.next.header.Get("X-Hookgate-Event-Id")] = true

		d := events.Delivery{
			Vendor: vc.vendor, Integration: vc.id, Header: res.next.header, Body: []byte(vc.body),
			Identity:    events.Identity{Event: "push", Delivery: delivery},
			DeliveryKey: events.DeliveryKey(vc.id, delivery, []byte(vc.body)),
			Signature:   "valid", Via: "webhook", ReceivedAt: testNow,
		}
		evs, _, _, err := events.Normalize(d)
		if err != nil || len(evs) == 0 {
			t.Fatalf("Normalize: %v, %d events", err, len(evs))
		}
		if got := res.next.header.Get("X-Hookgate-Event-Id"); got != evs[0].ID {
			t.Errorf("X-Hookgate-Event-Id %q, want the primary event id %q", got, evs[0].ID)
		}
	}
	if len(ids) != 2 {
		t.Errorf("event ids %v: want one per delivery", ids)
	}
}

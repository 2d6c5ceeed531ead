package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestDropInboundAnnotations(t *testing.T) {
	h := http.Header{}
	h.Set("X-Hookgate-Verified", "true")
	h.Set("X-Hookgate-Vendor", "github")
	// Keys that bypass canonicalization, as a map literal or an HTTP/2
	// frame could produce them.
	h["x-hookgate-integration"] = []string{"forged"}
	h["X-HOOKGATE-EVENT-ID"] = []string{"forged"}
	h["X-HookGate-Foo"] = []string{"forged"}
	h["X-Hookgate-"] = []string{"empty suffix"}
	// Kept.
	h.Set("X-Hub-Signature-256", "sha256=00")
	h.Set("X-Hookgate", "no dash: not the prefix")
	h.Set("X-Hook-Gate-Verified", "other name")
	h.Set("Content-Type", "application/json")
	h.Set("X-Forwarded-Hookgate-Verified", "prefix elsewhere")

	dropInboundAnnotations(h)

	want := http.Header{
		"X-Hub-Signature-256":           {"sha256=00"},
		"X-Hookgate":                    {"no dash: not the prefix"},
		"X-Hook-Gate-Verified":          {"other name"},
		"Content-Type":                  {"application/json"},
		"X-Forwarded-Hookgate-Verified": {"prefix elsewhere"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("after dropInboundAnnotations:\ngot  %v\nwant %v", h, want)
	}
}

func TestAnnotationApply(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/ci/github/x", nil)
	repl := caddy.NewReplacer()
	annotation{verified: "true", vendor: "github", integration: "x", event: "push", delivery: "", eventID: "evt_1"}.apply(r, repl)
	for k, v := range map[string]string{
		"X-Hookgate-Verified": "true", "X-Hookgate-Vendor": "github", "X-Hookgate-Integration": "x",
		"X-Hookgate-Event": "push", "X-Hookgate-Event-Id": "evt_1",
	} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := r.Header["X-Hookgate-Delivery"]; ok {
		t.Error("empty delivery set as a header")
	}
	for k, v := range map[string]string{
		"verified": "true", "vendor": "github", "integration": "x", "event": "push", "delivery": "", "event_id": "evt_1",
	} {
		got, ok := repl.GetString("http.hookgate." + k)
		if !ok || got != v {
			t.Errorf("{http.hookgate.%s} = %q, %v; want %q", k, got, ok, v)
		}
	}
}

func TestStripCredentials(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/jira/j1?a=1&token=s3cr3t&b=two+words&c=%2F", nil)
	r.Header.Set("Authorization", "Bearer s3cr3t")
	r.Header.Set("X-Gitlab-Token", "s3cr3t")
	r.Header.Set("X-Api-Token", "s3cr3t")
	r.Header.Set("X-Bamboo-Token", "s3cr3t")
	r.Header.Set("X-Hub-Signature-256", "sha256=abc")
	r.Header.Set("X-Hub-Signature", "sha1=abc")
	r.Header.Set("Webhook-Signature", "v1,abc")
	r.Header.Set("X-Servicenow-Signature", "abc")
	r.Header.Set("Content-Type", "application/json")

	stripCredentials(r)

	for _, k := range []string{"Authorization", "X-Gitlab-Token", "X-Api-Token", "X-Bamboo-Token"} {
		if _, ok := r.Header[k]; ok {
			t.Errorf("%s kept", k)
		}
	}
	for _, k := range []string{"X-Hub-Signature-256", "X-Hub-Signature", "Webhook-Signature", "X-Servicenow-Signature", "Content-Type"} {
		if r.Header.Get(k) == "" {
			t.Errorf("%s removed", k)
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		t.Fatalf("RawQuery %q: %v", r.URL.RawQuery, err)
	}
	want := url.Values{"a": {"1"}, "b": {"two words"}, "c": {"/"}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("query = %v, want %v", q, want)
	}
	if strings.Contains(r.URL.RawQuery, "s3cr3t") || strings.Contains(r.RequestURI, "s3cr3t") || strings.Contains(r.URL.String(), "s3cr3t") {
		t.Errorf("token left in RawQuery %q / RequestURI %q", r.URL.RawQuery, r.RequestURI)
	}
	if !strings.HasPrefix(r.RequestURI, "/webhooks/jira/j1?") {
		t.Errorf("RequestURI = %q, want the path kept", r.RequestURI)
	}
	if rq, _ := url.ParseQuery(strings.SplitN(r.RequestURI, "?", 2)[1]); !reflect.DeepEqual(rq, want) {
		t.Errorf("RequestURI query = %v, want %v", rq, want)
	}
}

func TestStripCredentialsQueryForms(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        url.Values // nil: the raw query must stay byte for byte
	}{
		{"no query", "", nil},
		{"no token, order kept", "z=1&a=2", nil},
		{"only token", "token=s3cr3t", url.Values{}},
		{"token twice", "token=s3cr3t&x=1&token=other", url.Values{"x": {"1"}}},
		{"empty token", "token=&x=1", url.Values{"x": {"1"}}},
		{"similar names kept", "tokens=1&my_token=2&token=s3cr3t", url.Values{"tokens": {"1"}, "my_token": {"2"}}},
		{"token as a value kept", "next=token&token=s3cr3t", url.Values{"next": {"token"}}},
		// The verifier unescapes parameter names, so an escaped name is the
		// credential too and must go.
		{"escaped name", "%74oken=s3cr3t&x=1", url.Values{"x": {"1"}}},
		{"escaped name, all escaped", "%74%6F%6B%65%6E=s3cr3t", url.Values{}},
		{"escaped name among others", "x=1&to%6Ben=s3cr3t", url.Values{"x": {"1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/webhooks/jira/j1"
			if tc.query != "" {
				target += "?" + tc.query
			}
			r := httptest.NewRequest(http.MethodPost, target, nil)
			stripCredentials(r)
			if tc.want == nil {
				if r.URL.RawQuery != tc.query || r.RequestURI != target {
					t.Errorf("query rewritten: RawQuery %q, RequestURI %q", r.URL.RawQuery, r.RequestURI)
				}
				return
			}
			if strings.Contains(r.URL.RawQuery, "s3cr3t") || strings.Contains(r.RequestURI, "s3cr3t") {
				t.Errorf("token left: RawQuery %q, RequestURI %q", r.URL.RawQuery, r.RequestURI)
			}
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				t.Fatalf("RawQuery %q: %v", r.URL.RawQuery, err)
			}
			if !reflect.DeepEqual(q, tc.want) {
				t.Errorf("query = %v, want %v", q, tc.want)
			}
			if r.RequestURI != r.URL.RequestURI() {
				t.Errorf("RequestURI %q out of step with URL %q", r.RequestURI, r.URL.RequestURI())
			}
		})
	}
}

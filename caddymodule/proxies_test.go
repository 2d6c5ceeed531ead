package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// A server that trusts proxies without trusted_proxies_strict, with the
// limiter on, gets one warning; strict, or the limiter off, none.
func TestLaxTrustedProxiesWarnedOnce(t *testing.T) {
	vc := caseByID(t, "gh-1")
	for _, tc := range []struct {
		name    string
		strict  int
		limiter bool
		want    int
	}{
		{"lax, limiter on", 0, true, 1},
		{"strict, limiter on", 1, true, 0},
		{"lax, limiter off", 0, false, 0},
	} {
		app := newTestApp(t, false)
		if !tc.limiter {
			app.limit = nil
		}
		h, logs := newTestHandler(app)
		h.proxyCheck = new(sync.Once)
		srv := &caddyhttp.Server{TrustedProxiesRaw: json.RawMessage(`{"source":"static","ranges":["10.0.0.0/8"]}`), TrustedProxiesStrict: tc.strict}
		for range 3 {
			r := validRequest(t, vc)
			r = r.WithContext(context.WithValue(r.Context(), caddyhttp.ServerCtxKey, srv))
			if res := serve(t, h, r); res.rec.Code != http.StatusAccepted && res.rec.Code != http.StatusOK {
				t.Fatalf("%s: %d", tc.name, res.rec.Code)
			}
		}
		n := 0
		for _, e := range logs.All() {
			if strings.Contains(e.Message, "trusted_proxies_strict") {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%s: %d warnings, want %d", tc.name, n, tc.want)
		}
	}
}

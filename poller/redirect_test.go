package poller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// A vendor API that redirects the poller to another host does not get its
// credential header sent there (Go drops Authorization on a host change,
// not ManageEngine's authtoken), nor anything fetched from it; a redirect
// within the api_url's origin is followed.
func TestGetJSONRefusesRedirectsOffTheOrigin(t *testing.T) {
	var elsewhere atomic.Int64
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		leaked.Store(r.Header.Get("authtoken"))
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		case "/away-307":
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusMovedPermanently)
		case "/here":
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer api.Close()
	p := &Pass{rec: integrations.Record{ID: "me", Vendor: integrations.ManageEngine, APIURL: api.URL, APIToken: "sdp-token-secret"},
		http: &http.Client{}, requestTimeout: 5 * time.Second}
	hdr := func() http.Header { return http.Header{"Authtoken": {"sdp-token-secret"}} }
	for _, path := range []string{"/away", "/away-307"} {
		var v struct{ OK bool }
		err := p.GetJSON(context.Background(), "list requests", api.URL+path, hdr(), &v)
		if err == nil || !strings.Contains(err.Error(), "redirect away from api_url's origin refused") || strings.Contains(err.Error(), "sdp-token-secret") {
			t.Errorf("%s: %v, want the redirect refused", path, err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the other host got %d requests (authtoken %q)", n, leaked.Load())
	}
	var v struct{ OK bool }
	if err := p.GetJSON(context.Background(), "list requests", api.URL+"/moved", hdr(), &v); err != nil || !v.OK {
		t.Errorf("redirect within the origin: %v %+v", err, v)
	}
}

package bamboo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

func TestManualVendorRegisterMakesNoRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	rec := integrations.Record{ID: "b1", Vendor: Vendor, APIURL: srv.URL, APIToken: fakeapi.APIToken, Secret: fakeapi.Secret}
	res, err := vendorapi.Register(context.Background(), srv.Client(), rec, vendorapi.Hook{URL: "https://hooks.example.com/webhooks/ci/bamboo/b1", Secret: fakeapi.Secret})
	if err != nil || res.Registered || res.ManualSteps == "" {
		t.Fatalf("Register = %+v, %v", res, err)
	}
}

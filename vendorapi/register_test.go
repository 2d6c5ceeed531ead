package vendorapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)

// The shared mechanics (settings checks, context, bounds, scrubbing) are
// tested through GitHub, Bitbucket and Azure DevOps records; each vendor's
// own calls are tested in its package under vendors/.

func githubRecord(apiURL string) integrations.Record {
	return integrations.Record{ID: "pay-gh", Vendor: integrations.GitHub, Secret: fakeapi.Secret, APIURL: apiURL, APIToken: fakeapi.APIToken, Target: "acme/pay", Active: true}
}

func bitbucketRecord(apiURL, user string) integrations.Record {
	return integrations.Record{ID: "pay-bb", Vendor: integrations.Bitbucket, Secret: fakeapi.Secret, APIURL: apiURL, APIUser: user, APIToken: fakeapi.APIToken, Target: "acme/pay", Active: true}
}

func azureRecord(apiURL, target string) integrations.Record {
	return integrations.Record{ID: "pay-ado", Vendor: integrations.AzureDevOps, Secret: fakeapi.Secret, APIURL: apiURL, APIToken: fakeapi.APIToken, Target: target, Active: true}
}

func TestRegisterRefusesMissingSettings(t *testing.T) {
	ok := githubRecord("https://github.example.com/api/v3")
	hook := vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret}
	for name, tc := range map[string]struct {
		rec  integrations.Record
		hook vendorapi.Hook
		want error
		says string
	}{
		"no api_token":        {with(ok, func(r *integrations.Record) { r.APIToken = "" }), hook, vendorapi.ErrMissingSetting, "api_token"},
		"no target":           {with(ok, func(r *integrations.Record) { r.Target = "" }), hook, vendorapi.ErrMissingSetting, "target"},
		"target not o/r":      {with(ok, func(r *integrations.Record) { r.Target = "acme" }), hook, vendorapi.ErrBadSetting, "owner/repo"},
		"target too deep":     {with(ok, func(r *integrations.Record) { r.Target = "acme/pay/x" }), hook, vendorapi.ErrBadSetting, "owner/repo"},
		"azure no api_url":    {azureRecord("", "payments"), hook, vendorapi.ErrMissingSetting, "api_url"},
		"api_url not http":    {with(ok, func(r *integrations.Record) { r.APIURL = "ftp://x" }), hook, vendorapi.ErrBadSetting, "api_url"},
		"api_url userinfo":    {with(ok, func(r *integrations.Record) { r.APIURL = "https://u:" + fakeapi.APIToken + "@x" }), hook, vendorapi.ErrBadSetting, "api_url"},
		"no receiver URL":     {ok, vendorapi.Hook{Secret: fakeapi.Secret}, vendorapi.ErrMissingSetting, "public_url"},
		"relative receiver":   {ok, vendorapi.Hook{URL: "/webhooks/ci/github/pay-gh", Secret: fakeapi.Secret}, vendorapi.ErrBadSetting, "receiver URL"},
		"no secret":           {ok, vendorapi.Hook{URL: fakeapi.Receiver}, vendorapi.ErrMissingSetting, "regenerate"},
		"unknown vendor":      {with(ok, func(r *integrations.Record) { r.Vendor = "svn" }), hook, vendorapi.ErrBadSetting, "unknown vendor"},
		"bitbucket no target": {with(bitbucketRecord("", "u"), func(r *integrations.Record) { r.Target = "" }), hook, vendorapi.ErrMissingSetting, "workspace/repo"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := vendorapi.Register(context.Background(), fakeapi.FailingClient(t), tc.rec, tc.hook)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.says)
			}
			fakeapi.MustNotLeak(t, "error", err.Error())
		})
	}
}

func with(r integrations.Record, f func(*integrations.Record)) integrations.Record {
	f(&r)
	return r
}

// TestDefaultAPIURLs: a record without api_url goes to the default its
// vendor registered (each vendor's test checks the exact first URL).
func TestDefaultAPIURLs(t *testing.T) {
	n := 0
	for _, v := range integrations.Vendors() {
		def := vendorapi.DefaultURLOf(v)
		if def == "" {
			continue
		}
		n++
		var got string
		c := &http.Client{Transport: fakeapi.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.URL.String()
			return nil, errors.New("stop here")
		})}
		rec := integrations.Record{ID: "x", Vendor: v, APIToken: fakeapi.APIToken, Target: "acme/pay", Secret: fakeapi.Secret}
		_, err := vendorapi.Register(context.Background(), c, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
		if err == nil || !strings.HasPrefix(got, def+"/") {
			t.Errorf("%s: first request %q (err %v), want one under %q", v, got, err, def)
		}
	}
	if n == 0 {
		t.Fatal("no vendor registered a default api_url")
	}
}

func TestRegisterHonoursContext(t *testing.T) {
	release := make(chan struct{})
	// A server that never answers until the test ends.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := vendorapi.Register(ctx, nil, githubRecord(srv.URL), vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("transport error quotes the request URL: %v", err)
	}
}

func TestResponsesAreBounded(t *testing.T) {
	var f fakeapi.Server
	f.Start(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("["))
		chunk := []byte(strings.Repeat(" ", 1<<16))
		for range (vendorapi.MaxResponse >> 16) + 2 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	_, err := vendorapi.Register(context.Background(), nil, githubRecord(f.URL()), vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want the oversized answer refused", err)
	}
}

func TestExcerptIsShortSingleLineAndScrubbed(t *testing.T) {
	s := vendorapi.NewTestSession(integrations.Record{Vendor: integrations.GitHub}, nil, fakeapi.Secret)
	body := strings.Repeat("x", vendorapi.MaxExcerpt-5) + fakeapi.Secret + "\n\tmore " + strings.Repeat("é", 400)
	got := s.Excerpt([]byte(body))
	if strings.Contains(got, fakeapi.Secret[:5]) || strings.ContainsAny(got, "\n\t") || len(got) > vendorapi.MaxExcerpt+len("…") {
		t.Errorf("excerpt %q", got)
	}
	// A secret split by whitespace folding or the cut still never shows.
	got = s.Excerpt([]byte(strings.Repeat(" ", 70000) + fakeapi.Secret))
	if strings.Contains(got, fakeapi.Secret[:4]) {
		t.Errorf("excerpt %q", got)
	}
}

func TestSameReceiver(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{fakeapi.Receiver, fakeapi.Receiver, true},
		{"HTTPS://Hooks.Example.com/webhooks/jira/x?token=old", "https://hooks.example.com/webhooks/jira/x", true},
		{"https://hooks.example.com/webhooks/jira/x", "https://hooks.example.com/webhooks/jira/x/", false},
		{"https://hooks.example.com/webhooks/jira/x", "https://hooks.example.com/webhooks/jira/y", false},
		{"https://hooks.example.com/webhooks/jira/x", "http://hooks.example.com/webhooks/jira/x", false},
		{"https://hooks.example.com/a?x=1", "https://hooks.example.com/a", false},
		{"", fakeapi.Receiver, false},
	} {
		if got := vendorapi.SameReceiver(tc.a, tc.b); got != tc.want {
			t.Errorf("SameReceiver(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// TestHasAPI: for every registered vendor, HasAPI says what Register does:
// a vendor with an API is called, one without answers its manual steps and
// calls nothing. (Which vendors have an API each vendor's test says.)
func TestHasAPI(t *testing.T) {
	for _, v := range integrations.Vendors() {
		called := false
		c := &http.Client{Transport: fakeapi.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			called = true
			return nil, errors.New("stop here")
		})}
		rec := integrations.Record{ID: "x", Vendor: v, APIURL: "https://api.example.invalid", APIUser: "u", APIToken: fakeapi.APIToken, Target: "acme/pay", Secret: fakeapi.Secret}
		res, err := vendorapi.Register(context.Background(), c, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
		if vendorapi.HasAPI(v) != called {
			t.Errorf("HasAPI(%s) = %v, but Register called the API: %v", v, vendorapi.HasAPI(v), called)
		}
		if !vendorapi.HasAPI(v) && (err != nil || res.Registered || res.ManualSteps == "") {
			t.Errorf("%s: Register = %+v, %v; want its manual steps", v, res, err)
		}
	}
}

func TestSendTestNeedsAHookID(t *testing.T) {
	_, err := vendorapi.SendTest(context.Background(), fakeapi.FailingClient(t), githubRecord("https://api.github.com"), " ")
	if !errors.Is(err, vendorapi.ErrMissingSetting) {
		t.Fatalf("err = %v", err)
	}
}

// TestSendTestThatNamesNoDeliveryIsUnidentified: a vendor's SendTest that
// answers no hook and no delivery id leaves its test delivery
// unidentified, so setup counts no delivery as the test.
func TestSendTestThatNamesNoDeliveryIsUnidentified(t *testing.T) {
	const v = "x-vague-test"
	vendorapi.RegisterVendor(v, vendorapi.Spec{
		Register: func(context.Context, *vendorapi.Session, vendorapi.Hook) (vendorapi.Result, error) {
			return vendorapi.Result{}, nil
		},
		SendTest: func(context.Context, *vendorapi.Session, string) (vendorapi.TestDelivery, error) {
			return vendorapi.TestDelivery{Event: "push"}, nil
		},
	})
	rec := integrations.Record{ID: "x", Vendor: v, APIURL: "https://api.example.invalid", APIToken: fakeapi.APIToken, Secret: fakeapi.Secret}
	td, err := vendorapi.SendTest(context.Background(), fakeapi.FailingClient(t), rec, "7")
	if err != nil || !td.Sent || td.Identified() || td.Unidentified == "" {
		t.Fatalf("SendTest = %+v, %v; want sent and unidentified", td, err)
	}
}

// TestSamples: every registered vendor has a send-test sample, and what
// SampleOf hands out is a copy.
func TestSamples(t *testing.T) {
	for _, v := range integrations.Vendors() {
		s, ok := vendorapi.SampleOf(v)
		if !ok || s.Body == "" {
			t.Errorf("%s: no send-test sample", v)
			continue
		}
		if s.Headers != nil {
			s.Headers["X-Changed"] = "1"
			if again, _ := vendorapi.SampleOf(v); again.Headers["X-Changed"] != "" {
				t.Errorf("%s: SampleOf hands out the registered headers", v)
			}
		}
	}
	if _, ok := vendorapi.SampleOf("svn"); ok {
		t.Error("an unknown vendor has a sample")
	}
}

func TestRegisterVendorRefusesMistakes(t *testing.T) {
	register := func(ctx context.Context, s *vendorapi.Session, hook vendorapi.Hook) (vendorapi.Result, error) {
		return vendorapi.Result{}, nil
	}
	for name, tc := range map[string]struct {
		v    integrations.Vendor
		spec vendorapi.Spec
	}{
		"no name": {"", vendorapi.Spec{Register: register}},
		"twice":   {integrations.GitHub, vendorapi.Spec{Register: register}},
		"send-test alone": {"x-send-test-alone", vendorapi.Spec{SendTest: func(context.Context, *vendorapi.Session, string) (vendorapi.TestDelivery, error) {
			return vendorapi.TestDelivery{}, nil
		}}},
		"sample without body": {"x-empty-sample", vendorapi.Spec{Sample: &vendorapi.Sample{}}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			vendorapi.RegisterVendor(tc.v, tc.spec)
		})
	}
}

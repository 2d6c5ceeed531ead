package vendorapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

func TestRegisterRefusesMissingSettings(t *testing.T) {
	ok := githubRecord("https://github.example.com/api/v3")
	hook := Hook{URL: testReceiver, Secret: testSecret}
	for name, tc := range map[string]struct {
		rec  integrations.Record
		hook Hook
		want error
		says string
	}{
		"no api_token":        {with(ok, func(r *integrations.Record) { r.APIToken = "" }), hook, ErrMissingSetting, "api_token"},
		"no target":           {with(ok, func(r *integrations.Record) { r.Target = "" }), hook, ErrMissingSetting, "target"},
		"target not o/r":      {with(ok, func(r *integrations.Record) { r.Target = "acme" }), hook, ErrBadSetting, "owner/repo"},
		"target too deep":     {with(ok, func(r *integrations.Record) { r.Target = "acme/pay/x" }), hook, ErrBadSetting, "owner/repo"},
		"azure no api_url":    {azureRecord("", "payments"), hook, ErrMissingSetting, "api_url"},
		"api_url not http":    {with(ok, func(r *integrations.Record) { r.APIURL = "ftp://x" }), hook, ErrBadSetting, "api_url"},
		"api_url userinfo":    {with(ok, func(r *integrations.Record) { r.APIURL = "https://u:" + testAPIToken + "@x" }), hook, ErrBadSetting, "api_url"},
		"no receiver URL":     {ok, Hook{Secret: testSecret}, ErrMissingSetting, "public_url"},
		"relative receiver":   {ok, Hook{URL: "/webhooks/ci/github/pay-gh", Secret: testSecret}, ErrBadSetting, "receiver URL"},
		"no secret":           {ok, Hook{URL: testReceiver}, ErrMissingSetting, "regenerate"},
		"unknown vendor":      {with(ok, func(r *integrations.Record) { r.Vendor = "svn" }), hook, ErrBadSetting, "unknown vendor"},
		"bitbucket no target": {with(bitbucketRecord("", "u"), func(r *integrations.Record) { r.Target = "" }), hook, ErrMissingSetting, "workspace/repo"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Register(context.Background(), failingClient(t), tc.rec, tc.hook)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.says)
			}
			mustNotLeak(t, "error", err.Error())
		})
	}
}

func with(r integrations.Record, f func(*integrations.Record)) integrations.Record {
	f(&r)
	return r
}

// failingClient fails the test on any request: settings errors must be
// found before the network.
func failingClient(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request to %s", r.URL.Host)
		return nil, errors.New("no network in this test")
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDefaultAPIURLs(t *testing.T) {
	for v, want := range map[integrations.Vendor]string{
		integrations.GitHub:    "https://api.github.com/repos/acme/pay/hooks?per_page=100",
		integrations.Bitbucket: "https://api.bitbucket.org/2.0/repositories/acme/pay/hooks",
		integrations.GitLab:    "https://gitlab.com/api/v4/projects/acme%2Fpay/hooks?per_page=100",
	} {
		var got string
		c := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.URL.String()
			return nil, errors.New("stop here")
		})}
		rec := integrations.Record{ID: "x", Vendor: v, APIToken: testAPIToken, Target: "acme/pay", Secret: testSecret}
		_, err := Register(context.Background(), c, rec, Hook{URL: testReceiver, Secret: testSecret})
		if err == nil || got != want {
			t.Errorf("%s: first request %q (err %v), want %q", v, got, err, want)
		}
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
	_, err := Register(ctx, nil, githubRecord(srv.URL), Hook{URL: testReceiver, Secret: testSecret})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("transport error quotes the request URL: %v", err)
	}
}

func TestResponsesAreBounded(t *testing.T) {
	var f fakeBase
	f.start(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("["))
		chunk := []byte(strings.Repeat(" ", 1<<16))
		for range (maxResponse >> 16) + 2 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	_, err := Register(context.Background(), nil, githubRecord(f.srv.URL), Hook{URL: testReceiver, Secret: testSecret})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want the oversized answer refused", err)
	}
}

func TestExcerptIsShortSingleLineAndScrubbed(t *testing.T) {
	s := &session{rec: integrations.Record{Vendor: integrations.GitHub}}
	s.addSecret(testSecret)
	body := strings.Repeat("x", maxExcerpt-5) + testSecret + "\n\tmore " + strings.Repeat("é", 400)
	got := s.excerpt([]byte(body))
	if strings.Contains(got, testSecret[:5]) || strings.ContainsAny(got, "\n\t") || len(got) > maxExcerpt+len("…") {
		t.Errorf("excerpt %q", got)
	}
	// A secret split by whitespace folding or the cut still never shows.
	got = s.excerpt([]byte(strings.Repeat(" ", 70000) + testSecret))
	if strings.Contains(got, testSecret[:4]) {
		t.Errorf("excerpt %q", got)
	}
}

func TestSameReceiver(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{testReceiver, testReceiver, true},
		{"HTTPS://Hooks.Example.com/webhooks/jira/x?token=old", "https://hooks.example.com/webhooks/jira/x", true},
		{"https://hooks.example.com/webhooks/jira/x", "https://hooks.example.com/webhooks/jira/x/", false},
		{"https://hooks.example.com/webhooks/jira/x", "https://hooks.example.com/webhooks/jira/y", false},
		{"https://hooks.example.com/webhooks/jira/x", "http://hooks.example.com/webhooks/jira/x", false},
		{"https://hooks.example.com/a?x=1", "https://hooks.example.com/a", false},
		{"", testReceiver, false},
	} {
		if got := sameReceiver(tc.a, tc.b); got != tc.want {
			t.Errorf("sameReceiver(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestHasAPI(t *testing.T) {
	for _, v := range integrations.Vendors() {
		want := v != integrations.Jenkins && v != integrations.Bamboo && v != integrations.ServiceNow && v != integrations.ManageEngine
		if HasAPI(v) != want {
			t.Errorf("HasAPI(%s) = %v", v, !want)
		}
	}
}

func TestSendTestNeedsAHookID(t *testing.T) {
	_, err := SendTest(context.Background(), failingClient(t), githubRecord("https://api.github.com"), " ")
	if !errors.Is(err, ErrMissingSetting) {
		t.Fatalf("err = %v", err)
	}
}

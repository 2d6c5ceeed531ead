package vendorapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Vendor answers are not trusted to be well-formed: whatever an error body
// holds, its excerpt stays short, on one line, and free of the secret.
func FuzzExcerpt(f *testing.F) {
	for _, s := range []string{`{"message":"Bad credentials"}`, "<html>\n" + fakeapi.Secret + "</html>", "token=abc&x", strings.Repeat(" ", 400) + fakeapi.Secret} {
		f.Add([]byte(s))
	}
	s := vendorapi.NewTestSession(integrations.Record{Vendor: integrations.GitHub}, nil, fakeapi.Secret)
	f.Fuzz(func(t *testing.T, body []byte) {
		got := s.Excerpt(body)
		if strings.Contains(got, fakeapi.Secret) || strings.ContainsAny(got, "\n\r\t") || len(got) > vendorapi.MaxExcerpt+len("…") || !utf8.ValidString(got) {
			t.Fatalf("excerpt %q", got)
		}
	})
}

// A Link header never leads the API token off the api_url's origin.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{
		`<https://api.github.com/repos/a/b/hooks?page=2>; rel="next", <https://api.github.com/repos/a/b/hooks?page=9>; rel="last"`,
		`<https://evil.example/x>; rel="next"`,
		`<https://api.github.com@evil.example/x>; rel=next`,
		`<//evil.example/x>; rel="prev next"`,
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://api.github.com")
	s := vendorapi.NewTestSession(integrations.Record{Vendor: integrations.GitHub}, base)
	f.Fuzz(func(t *testing.T, link string) {
		u, err := s.NextLink(http.Header{"Link": {link}}, "list hooks")
		if u != nil && (err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, "api.github.com") || u.User != nil) {
			t.Fatalf("nextLink(%q) = %v, %v", link, u, err)
		}
	})
}

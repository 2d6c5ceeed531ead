package vendorapi

import (
	"net/url"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// What the external tests (package vendorapi_test) reach inside.

const (
	MaxExcerpt  = maxExcerpt
	MaxResponse = maxResponse
)

// NewTestSession is a session on rec with base as its api_url, scrubbing
// secrets from its excerpts.
func NewTestSession(rec integrations.Record, base *url.URL, secrets ...string) *Session {
	s := &Session{rec: rec, base: base}
	for _, v := range secrets {
		s.addSecret(v)
	}
	return s
}

// Excerpt is s.excerpt.
func (s *Session) Excerpt(data []byte) string { return s.excerpt(data) }

// DefaultURLOf is the api_url v's package registered as its default.
func DefaultURLOf(v integrations.Vendor) string { return specs[v].DefaultURL }

package vendorapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// ErrRedirectOffOrigin is the error of a request whose answer redirected
// it away from the api_url's scheme, host and port.
var ErrRedirectOffOrigin = errors.New("redirect away from api_url's origin refused")

// SameOrigin reports whether u has base's scheme, host and port, and no
// userinfo.
func SameOrigin(base, u *url.URL) bool {
	return u.Scheme == base.Scheme && strings.EqualFold(u.Host, base.Host) && u.User == nil
}

// SameOriginClient is a copy of c that follows no redirect off base's
// origin: Go drops Authorization on a cross-host redirect, but not custom
// credential headers (ManageEngine's authtoken, GitLab's PRIVATE-TOKEN),
// and a 307/308 resends the body. Every vendor API call, the poller's and
// registration's alike, goes through one. c's own redirect policy still
// applies on top; without one, at most 10 redirects are followed.
func SameOriginClient(c *http.Client, base *url.URL) *http.Client {
	cc := *c
	own := c.CheckRedirect
	origin := *base
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !SameOrigin(&origin, req.URL) {
			return ErrRedirectOffOrigin
		}
		if own != nil {
			return own(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cc
}

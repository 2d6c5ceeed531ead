package vendorapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookgate/caddy-hookgate/integrations"
)

const (
	// maxResponse bounds every vendor response body read.
	maxResponse = 8 << 20
	// maxExcerpt bounds the part of a vendor's error body quoted in an
	// APIError, after scrubbing.
	maxExcerpt = 300
)

// MaxPages bounds how many pages of hooks a vendor's listing follows; past
// it, a listing answers Session.TooManyPages.
const MaxPages = 50

// APIError is a vendor API call that did not answer 2xx, or whose answer
// could not be read. Excerpt is a short piece of the vendor's answer with the
// webhook secret and API token scrubbed out.
type APIError struct {
	Vendor  integrations.Vendor
	Op      string // what was being done, e.g. "create hook"
	Status  int    // HTTP status; 0 when the answer could not be read
	Excerpt string
}

// Error says vendor, operation, status and the scrubbed excerpt.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vendorapi: %s: %s", e.Vendor, e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Excerpt != "" {
		b.WriteString(": ")
		b.WriteString(e.Excerpt)
	}
	return b.String()
}

// Session is one Register or SendTest call's access to one vendor API, as
// a vendor's Spec.Register and Spec.SendTest get it: the record, its
// api_url as the base of Endpoint, and Do, which authorizes each request
// (Spec.Authorize), bounds and decodes the answer, and turns a failure
// into an *APIError scrubbed of the webhook secrets and the API token. Its
// client refuses redirects off the api_url's origin. A Session is used by
// one goroutine.
type Session struct {
	c      *http.Client
	rec    integrations.Record
	base   *url.URL
	auth   func(*http.Request, integrations.Record)
	refuse func(int, http.Header) string
	redact []string // values scrubbed from excerpts, longest first
}

// newSession checks the record's API settings and prepares the client.
func newSession(c *http.Client, rec integrations.Record, spec Spec) (*Session, error) {
	if c == nil {
		c = http.DefaultClient
	}
	raw := strings.TrimSpace(rec.APIURL)
	if raw == "" {
		raw = spec.DefaultURL
	}
	if raw == "" {
		return nil, fmt.Errorf("vendorapi: %s: %w: api_url (integration %s)", rec.Vendor, ErrMissingSetting, rec.ID)
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("vendorapi: %s: %w: api_url must be an http or https URL without user info, query or fragment (integration %s)", rec.Vendor, ErrBadSetting, rec.ID)
	}
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	if rec.APIToken == "" {
		return nil, fmt.Errorf("vendorapi: %s: %w: api_token (integration %s)", rec.Vendor, ErrMissingSetting, rec.ID)
	}
	if spec.Target != "" && strings.TrimSpace(rec.Target) == "" {
		return nil, fmt.Errorf("vendorapi: %s: %w: target, the %s (integration %s)", rec.Vendor, ErrMissingSetting, spec.Target, rec.ID)
	}
	s := &Session{rec: rec, base: base, auth: spec.Authorize, refuse: spec.Refuse}
	if s.auth == nil {
		s.auth = authorizeBasicOrBearer
	}
	s.c = s.guarded(c)
	s.addSecret(rec.APIToken)
	s.addSecret(rec.Secret)
	s.addSecret(rec.PreviousSecret)
	if rec.APIUser != "" {
		s.addSecret(base64.StdEncoding.EncodeToString([]byte(rec.APIUser + ":" + rec.APIToken)))
	}
	s.addSecret(base64.StdEncoding.EncodeToString([]byte(":" + rec.APIToken)))
	return s, nil
}

// guarded is a copy of c that refuses redirects off the api_url's origin
// (SameOriginClient).
func (s *Session) guarded(c *http.Client) *http.Client {
	return SameOriginClient(c, s.base)
}

// Record is the integration record the call is for.
func (s *Session) Record() integrations.Record { return s.rec }

// TrimBasePath removes suffix from the end of the api_url's path, for a
// vendor whose operators may write its API prefix into api_url (GitLab's
// /api/v4) while its paths are built from the instance's root.
func (s *Session) TrimBasePath(suffix string) {
	s.base.Path = strings.TrimSuffix(s.base.Path, suffix)
}

// addSecret adds v, and its URL- and JSON-escaped forms, to what excerpts
// are scrubbed of.
func (s *Session) addSecret(v string) {
	if v == "" {
		return
	}
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
	if j, err := json.Marshal(v); err == nil {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	for _, f := range forms {
		dup := false
		for _, have := range s.redact {
			dup = dup || have == f
		}
		if !dup {
			s.redact = append(s.redact, f)
		}
	}
	// Longest first, so a value containing another is scrubbed whole.
	for i := 1; i < len(s.redact); i++ {
		for j := i; j > 0 && len(s.redact[j]) > len(s.redact[j-1]); j-- {
			s.redact[j], s.redact[j-1] = s.redact[j-1], s.redact[j]
		}
	}
}

// Endpoint is the api_url with path elements appended and query as its
// query. Elements are escaped one by one, so "group/project" stays one
// element (group%2Fproject).
func (s *Session) Endpoint(query url.Values, elems ...string) *url.URL {
	u := *s.base
	raw := u.EscapedPath()
	for _, e := range elems {
		raw += "/" + url.PathEscape(e)
	}
	p, err := url.PathUnescape(raw)
	if err != nil { // cannot happen: every element was escaped
		p = raw
	}
	u.Path, u.RawPath = p, raw
	u.RawQuery = query.Encode()
	return &u
}

// SameOrigin reports whether u may receive the API token: only the api_url's
// own scheme and host do, so a pagination link cannot send it elsewhere.
// A vendor following a next-page URL from an answer must check it.
func (s *Session) SameOrigin(u *url.URL) bool {
	return SameOrigin(s.base, u)
}

// Do sends one API request; op names it in errors ("create hook"). in,
// when not nil, is sent as JSON; a 2xx answer is decoded into out when out
// is not nil. It returns the answer's headers for pagination. A non-2xx
// answer, or one Spec.Refuse refuses, is an *APIError; a failed round trip
// keeps its cause for errors.Is but not the URL.
func (s *Session) Do(ctx context.Context, op, method string, u *url.URL, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("vendorapi: %s: %s: %w", s.rec.Vendor, op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("vendorapi: %s: %s: %w", s.rec.Vendor, op, ErrBadSetting)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", "hookgate")
	s.auth(req, s.rec)
	resp, err := s.c.Do(req)
	if err != nil {
		return nil, s.transportError(op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, s.transportError(op, err)
	}
	if len(data) > maxResponse {
		return nil, &APIError{Vendor: s.rec.Vendor, Op: op, Status: resp.StatusCode, Excerpt: "answer larger than 8 MiB"}
	}
	if s.refuse != nil {
		if reason := s.refuse(resp.StatusCode, resp.Header); reason != "" {
			return nil, &APIError{Vendor: s.rec.Vendor, Op: op, Status: resp.StatusCode, Excerpt: reason}
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &APIError{Vendor: s.rec.Vendor, Op: op, Status: resp.StatusCode, Excerpt: s.excerpt(data)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &APIError{Vendor: s.rec.Vendor, Op: op, Status: resp.StatusCode, Excerpt: "answer is not the documented JSON: " + s.excerpt(data)}
		}
	}
	return resp.Header, nil
}

// transportError reports a failed round trip without the request URL (it
// could carry a target the operator considers private, and url.Error quotes
// it whole) but keeps the cause, so errors.Is(err, context.Canceled) works.
func (s *Session) transportError(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := s.scrub(err.Error())
	return &transportErr{msg: fmt.Sprintf("vendorapi: %s: %s: %s", s.rec.Vendor, op, msg), cause: err}
}

type transportErr struct {
	msg   string
	cause error
}

func (e *transportErr) Error() string { return e.msg }
func (e *transportErr) Unwrap() error { return e.cause }

// tokenParam matches a token query parameter's value in echoed URLs, so a
// previous Jira token the vendor quotes back is scrubbed too.
var tokenParam = regexp.MustCompile(`(?i)(token=)[^&\s"'<>\\]+`)

// scrub removes secrets from s.
func (s *Session) scrub(text string) string {
	for _, v := range s.redact {
		text = strings.ReplaceAll(text, v, "[redacted]")
	}
	return tokenParam.ReplaceAllString(text, "${1}[redacted]")
}

// excerpt is a short, single-line, scrubbed piece of a vendor's answer.
func (s *Session) excerpt(data []byte) string {
	// Scrub the whole answer first, so neither the whitespace folding below
	// nor the cut can leave part of a secret behind.
	text := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s.scrub(string(data)))
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}

// BadAnswer is the *APIError for a 2xx answer op cannot use, e.g. "answer
// has no hook id". excerpt must not carry a secret.
func (s *Session) BadAnswer(op, excerpt string) error {
	return &APIError{Vendor: s.rec.Vendor, Op: op, Excerpt: excerpt}
}

// NextLink returns the rel="next" target of an RFC 8288 Link header (GitHub,
// GitLab), or nil on the last page. A next page off the API's own origin is
// an error: following it would send the token elsewhere, and stopping there
// could miss hookgate's hook and add a second one.
func (s *Session) NextLink(h http.Header, op string) (*url.URL, error) {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			next := false
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") {
					for _, rel := range strings.Fields(strings.Trim(val, `"`)) {
						next = next || strings.EqualFold(rel, "next")
					}
				}
			}
			if !next {
				continue
			}
			u, err := url.Parse(target[1 : len(target)-1])
			if err != nil || !s.SameOrigin(u) {
				return nil, s.OffOrigin(op)
			}
			return u, nil
		}
	}
	return nil, nil
}

// OffOrigin is the *APIError for a next page op was pointed at off the
// api_url's origin: a listing must stop there with this error.
func (s *Session) OffOrigin(op string) error {
	return &APIError{Vendor: s.rec.Vendor, Op: op, Excerpt: "next page link is not on api_url's origin"}
}

// TooManyPages is the *APIError for a listing that still had pages after
// MaxPages.
func (s *Session) TooManyPages(op string) error {
	return &APIError{Vendor: s.rec.Vendor, Op: op, Excerpt: fmt.Sprintf("more than %d pages of hooks", MaxPages)}
}

package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookgate/caddy-hookgate/state"
)

const (
	// DefaultTimeout bounds one delivery attempt when ClientConfig.Timeout
	// is zero.
	DefaultTimeout = 10 * time.Second

	// MaxRetryAfter caps the wait a Retry-After answer can impose, so a
	// misbehaving finding service cannot park an event for days.
	MaxRetryAfter = time.Hour

	// responseReadLimit bounds how much of a response body is read: enough
	// to quote an error, little enough that a huge answer costs nothing.
	responseReadLimit = 64 << 10
	// errorBodyLimit is how many bytes of an error answer a message quotes.
	errorBodyLimit = 200
	// redactMinLen is the shortest header value (or word of one) that is
	// blanked out of quoted answers; shorter ones are not secrets.
	redactMinLen = 8
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// URL receives one POST per event; an absolute http or https URL.
	// Required.
	URL string
	// Timeout bounds one delivery attempt, from dialling to the last byte
	// of the answer read. Default: 10s.
	Timeout time.Duration
	// Headers are set on every delivery, e.g. Authorization. They cannot
	// replace Content-Type or Idempotency-Key. Their values never appear in
	// an error. Default: none.
	Headers map[string]string
	// HTTP sends the requests. Default: a client on a clone of
	// http.DefaultTransport that does not follow redirects (a redirected
	// POST may arrive as a GET and look delivered). A client given here is
	// used as it is, redirects included.
	HTTP *http.Client
}

// Client makes single delivery attempts to the finding service. It is safe
// for concurrent use.
type Client struct {
	url     string
	host    string // Host header override, if configured
	timeout time.Duration
	headers http.Header
	secrets []string // header values blanked out of quoted answers
	http    *http.Client
	now     func() time.Time // for Retry-After dates
}

// NewClient checks cfg and returns a Client for it. Errors name the
// offending header but never quote its value.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("upstream: URL must be an absolute http or https URL")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("upstream: timeout must not be negative")
	}
	c := &Client{
		url:     cfg.URL,
		timeout: cfg.Timeout,
		headers: make(http.Header, len(cfg.Headers)),
		http:    cfg.HTTP,
		now:     time.Now,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	for name, value := range cfg.Headers {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("upstream: invalid header name %q", name)
		}
		if !validHeaderValue(value) {
			return nil, fmt.Errorf("upstream: header %s has an invalid value (control characters)", name)
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		switch key {
		case "Content-Type", "Idempotency-Key", "Content-Length":
			return nil, fmt.Errorf("upstream: header %s is set by hookgate and cannot be configured", key)
		case "Host":
			c.host = value
		default:
			c.headers.Set(key, value)
		}
		c.secrets = appendSecrets(c.secrets, value)
	}
	if c.headers.Get("User-Agent") == "" {
		c.headers.Set("User-Agent", "hookgate")
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// One finding service takes every delivery: keep a connection per
		// concurrent attempt alive rather than the default two, or most
		// attempts pay for a new connection (and a TIME_WAIT socket).
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		c.http = &http.Client{
			Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return c, nil
}

// maxIdleConnsPerHost is how many keep-alive connections to the finding
// service a Client keeps: more than the app's delivery concurrency.
const maxIdleConnsPerHost = 64

// Timeout reports how long one delivery attempt may take.
func (c *Client) Timeout() time.Duration { return c.timeout }

// CloseIdleConnections closes the client's idle keep-alive connections; call
// it when the Client is replaced (a config reload) or no longer used.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// DeliveryError is a failed delivery attempt. Its message quotes at most a
// short, cleaned prefix of the answer's body, with configured header values
// blanked out, and never the request's headers.
type DeliveryError struct {
	// Status is the finding service's HTTP status; 0 when there was no
	// answer (network error, timeout, cancellation).
	Status int
	// Retryable is true for 408, 429, 5xx, network errors and timeouts:
	// another attempt later may succeed. Other answers are permanent.
	Retryable bool
	// RetryAfter is the wait a 429 or 503 answer asked for with
	// Retry-After (seconds or an HTTP date), capped at MaxRetryAfter; 0
	// when none was given.
	RetryAfter time.Duration
	// Msg describes the failure; it is what Error returns.
	Msg string
	// Err is the underlying transport or context error, if any. Its text
	// may name the URL; Msg does not.
	Err error
}

// Error returns Msg, or a description built from Status when Msg is empty.
func (e *DeliveryError) Error() string {
	switch {
	case e.Msg != "":
		return e.Msg
	case e.Status != 0:
		return fmt.Sprintf("upstream answered %d", e.Status)
	default:
		return "upstream delivery failed"
	}
}

// Unwrap returns Err, so errors.Is(err, context.Canceled) works.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Deliver makes one attempt to POST ev.Body to the finding service with
// Content-Type: application/json, Idempotency-Key: ev.ID and the configured
// headers. It returns nil on a 2xx answer and a *DeliveryError otherwise.
// The answer's body is read (at most 64 KiB) and closed either way.
func (c *Client) Deliver(ctx context.Context, ev state.OutboxEvent) error {
	if ev.ID == "" {
		return &DeliveryError{Msg: "upstream: event has no id to use as Idempotency-Key"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(ev.Body))
	if err != nil {
		return &DeliveryError{Msg: "upstream: cannot build request", Err: err}
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", ev.ID)

	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, responseReadLimit))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The finding service said yes; a body cut short changes nothing.
		return nil
	}
	de := &DeliveryError{Status: resp.StatusCode, Retryable: retryableStatus(resp.StatusCode)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		de.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "upstream answered %d", resp.StatusCode)
	if text := http.StatusText(resp.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		b.WriteString(" (redirects are not followed: check the upstream URL)")
	}
	if de.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", de.RetryAfter)
	}
	if quoted := c.quote(body); quoted != "" {
		b.WriteString(": " + quoted)
	} else if readErr != nil {
		b.WriteString(" (body unreadable)")
	}
	de.Msg = b.String()
	return de
}

// transportError classifies a failure to get an answer at all. Every such
// failure is retryable: the finding service may not have seen the event.
func (c *Client) transportError(ctx context.Context, err error) *DeliveryError {
	de := &DeliveryError{Retryable: true, Err: err}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		de.Msg = "upstream delivery canceled"
		de.Err = ctx.Err()
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		de.Msg = fmt.Sprintf("upstream gave no answer within %s", c.timeout)
	default:
		// url.Error's text repeats the URL, which may carry a token in
		// its query; quote only the cause.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		de.Msg = "upstream unreachable: " + c.redact(cause.Error())
	}
	return de
}

// retryableStatus reports whether an answer with status may be followed by
// a successful attempt later: 408, 429 and 5xx.
func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// as a wait from now. Unreadable, negative or past values give 0; long ones
// are capped at MaxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// quote turns an error answer's body into a short, single-line, valid
// UTF-8 excerpt with configured header values blanked out. Redaction
// happens before truncation, so a cut cannot leave part of a value behind.
func (c *Client) quote(body []byte) string {
	s := c.redact(string(body))
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if len(s) <= errorBodyLimit {
		return s
	}
	cut := errorBodyLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// redact blanks every configured header value (and every long enough word
// of one, such as the token after "Bearer") out of s; a finding service
// that echoes its request must not leak the token into a dead letter.
func (c *Client) redact(s string) string {
	for _, secret := range c.secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// appendSecrets adds value and its words of redactMinLen bytes or more to
// secrets, longest first so a whole value is blanked before its parts.
func appendSecrets(secrets []string, value string) []string {
	add := func(s string) {
		if len(s) < redactMinLen {
			return
		}
		for i, have := range secrets {
			if have == s {
				return
			}
			if len(s) > len(have) {
				secrets = slices.Insert(secrets, i, s)
				return
			}
		}
		secrets = append(secrets, s)
	}
	add(strings.TrimSpace(value))
	for _, word := range strings.Fields(value) {
		add(word)
	}
	return secrets
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(ch)) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether value holds no control characters other
// than horizontal tab.
func validHeaderValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if ch := value[i]; (ch < 0x20 && ch != '\t') || ch == 0x7f {
			return false
		}
	}
	return true
}

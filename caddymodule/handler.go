package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler verifies one webhook delivery before anything else sees it. It
// reads the vendor and integration from a receiver path
// (/webhooks/{jira,servicenow,manageengine}/{id},
// /webhooks/ci/{vendor}/{id}) or from its own Vendor and Integration, looks
// the integration's record up (memory cache, then Vault), reads the body
// bounded while hashing it, and lets the request through only when the
// vendor's native credential is valid.
//
// Refusals are answered by the handler itself: 401 with one uniform body for
// every unverifiable delivery, 405 for methods other than POST, 413 over
// max_body, 503 with Retry-After when the secret store is unreachable and
// nothing is cached, 429 with Retry-After when the brute-force limiter
// holds the caller's address (limit.go; never for a valid delivery).
//
// On success it sets these headers for the next handler (inbound
// X-Hookgate-* headers are always deleted first) and the same values as
// placeholders:
//
//	X-Hookgate-Verified     {http.hookgate.verified}     true or unsigned
//	X-Hookgate-Vendor       {http.hookgate.vendor}
//	X-Hookgate-Integration  {http.hookgate.integration}
//	X-Hookgate-Event        {http.hookgate.event}
//	X-Hookgate-Delivery     {http.hookgate.delivery}
//	X-Hookgate-Event-Id     {http.hookgate.event_id}
//
// {http.hookgate.reason} holds the reason of a refusal, for access logs.
type Handler struct {
	// Vendor names the vendor for a path that is not a receiver path.
	// Placeholders allowed. Default: taken from the receiver path.
	// Must be set together with Integration.
	Vendor string `json:"vendor,omitempty"`
	// Integration names the integration for a path that is not a receiver
	// path. Placeholders allowed. Default: taken from the receiver path.
	Integration string `json:"integration,omitempty"`
	// KeepCredentials leaves bearer-like credentials (Authorization,
	// X-Gitlab-Token, X-Api-Token, X-Bamboo-Token, the `token` query
	// parameter) on the request for the next handler. Default: false, they
	// are removed.
	KeepCredentials bool `json:"keep_credentials,omitempty"`

	app     *App
	logger  *zap.Logger
	now     func() time.Time
	checks  *sync.Pool
	inbound *sync.Pool
	// allowIPsProxyCheck runs warnLaxProxiesAllowIPs on the first
	// request for an integration with allow_ips.
	allowIPsProxyCheck *sync.Once
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.hookgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision finds the hookgate app.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.now = time.Now
	h.checks = &sync.Pool{New: func() any { return new(verifiers.Check) }}
	h.inbound = &sync.Pool{New: func() any { return new(inbound) }}
	h.allowIPsProxyCheck = new(sync.Once)
	app, err := ctx.App("hookgate")
	if err != nil {
		return fmt.Errorf("hookgate: loading app: %w", err)
	}
	h.app = app.(*App)
	return nil
}

// Validate checks that Vendor and Integration are set together.
func (h *Handler) Validate() error {
	if (h.Vendor == "") != (h.Integration == "") {
		return errors.New("hookgate: vendor and integration must be set together")
	}
	if h.Vendor != "" && !containsPlaceholder(h.Vendor) && !integrations.Vendor(h.Vendor).Known() {
		return fmt.Errorf("hookgate: unknown vendor %q", h.Vendor)
	}
	return nil
}

// ServeHTTP verifies the delivery and passes it on, or refuses it.
// Everything the headers decide is decided before a byte of the body is
// read (admit.go); the body is then read bounded in size, memory and time
// while it is hashed (body_read.go), judged, and only then parsed
// (pass.go). delivery decides what a verified delivery moves.
//
// Every answer hookgate gives itself over HTTP/1 ends the connection; only
// a delivery passed on keeps it. Most refusals come before the body is
// read: the server then neither waits for a body nobody will read nor
// keeps a connection whose next bytes are someone's unread body. Doing it
// for all of them keeps every 401 alike, so the header does not tell a
// caller whether its id exists. HTTP/2 resets the stream of an unread
// body by itself, and a GOAWAY would fail the other streams of a proxy
// that multiplexes many senders on one connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	dropInboundAnnotations(r.Header)
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	closing := r.ProtoMajor == 1
	if closing {
		w.Header().Set("Connection", "close")
	}
	in, answered, err := h.admit(w, r, repl)
	if answered {
		lingerUnread(w, r, closing)
		return err
	}
	defer in.finish(h)
	readStart := time.Now()
	if answered, err := h.readBody(w, r, repl, in, closing); answered {
		return err
	}
	signature, answered, err := h.judge(w, r, repl, in, readStart)
	if answered {
		return err
	}
	vd, answered, err := h.prepare(w, r, repl, in, signature)
	if answered {
		return err
	}
	if h.app.forwarding() {
		if answered, err := h.commit(r.Context(), w, repl, vd); answered {
			return err
		}
		h.handOn(w, r, repl, vd, closing)
		return next.ServeHTTP(w, r)
	}
	token, answered, err := h.claim(w, r, repl, vd)
	if answered {
		return err
	}
	h.handOn(w, r, repl, vd, closing)
	return h.passGated(w, r, next, vd, token)
}

// reject refuses a delivery of a known integration with 401 and records it
// in the integration's rejected audit list, or with 429 once its address
// is over the brute-force limiter's threshold (limit.go).
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, rec *integrations.Record, signature, reason string, now time.Time) error {
	if answered, err := h.limitRejected(w, r, repl, rec, signature, reason, now); answered {
		return err
	}
	h.auditRejected(r.Context(), rec, r, signature, reason, now)
	return h.refuse(w, repl, http.StatusUnauthorized, reason, rec.Vendor, rec.ID)
}

// receiver names the vendor and integration of the request: the handler's
// own settings when set, else the receiver path.
func (h *Handler) receiver(r *http.Request, repl *caddy.Replacer) (integrations.Vendor, string, bool) {
	if h.Integration == "" {
		return receiverFromPath(r.URL.Path)
	}
	vendor := integrations.Vendor(repl.ReplaceAll(h.Vendor, ""))
	id := repl.ReplaceAll(h.Integration, "")
	if !vendor.Known() || !integrations.ValidID(id) {
		return "", "", false
	}
	return vendor, id, true
}

// refuse answers a delivery that does not pass, logs why and counts it in
// caddy_hookgate_deliveries_total (its result follows from status, and for
// a 401 from whether id is set). The id is logged only when it names a
// known integration, never as the caller sent it.
func (h *Handler) refuse(w http.ResponseWriter, repl *caddy.Replacer, status int, reason string, vendor integrations.Vendor, id string) error {
	return h.refuseAs(w, repl, status, refusalResult(status, id != ""), reason, vendor, id)
}

// refuseAs is refuse with the metric result given rather than derived
// from the status: the 503s of the body budget and the full outbox are
// counted apart from the secret or state store being down.
func (h *Handler) refuseAs(w http.ResponseWriter, repl *caddy.Replacer, status int, result deliveryResult, reason string, vendor integrations.Vendor, id string) error {
	repl.Set(placeholderScope+"reason", reason)
	h.app.metrics.delivery(vendor, result)
	if c := h.logger.Check(zapcore.InfoLevel, "webhook refused"); c != nil {
		c.Write(zap.Int("status", status), zap.String("reason", reason), zap.String("vendor", string(vendor)), zap.String("integration", id))
	}
	switch status {
	case http.StatusUnauthorized:
		return writeJSON(w, status, bodyUnauthorized)
	case http.StatusMethodNotAllowed:
		return writeJSON(w, status, bodyMethodNotAllowed)
	case http.StatusRequestEntityTooLarge:
		return writeJSON(w, status, bodyTooLarge)
	case http.StatusServiceUnavailable:
		return writeJSON(w, status, bodyUnavailable)
	case http.StatusTooManyRequests:
		return writeJSON(w, status, bodyTooManyRequests)
	case http.StatusRequestTimeout:
		return writeJSON(w, status, bodyRequestTimeout)
	default:
		return writeJSON(w, status, bodyBadRequest)
	}
}

// writerOrNil keeps a nil *Check from becoming a non-nil io.Writer.
func writerOrNil(c *verifiers.Check) io.Writer {
	if c == nil {
		return nil
	}
	return c
}

func containsPlaceholder(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '{' {
			return true
		}
	}
	return false
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

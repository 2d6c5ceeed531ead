package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/limiter"
	"github.com/hookgate/caddy-hookgate/poller"
	"github.com/hookgate/caddy-hookgate/secretstore"
	"github.com/hookgate/caddy-hookgate/upstream"
)

func init() {
	caddy.RegisterModule(App{})
}

// Defaults of the app's settings.
const (
	DefaultMaxBody      = 25 << 20 // GitHub's own cap on a delivery
	DefaultAuditSize    = 200
	DefaultDedupeWindow = 72 * time.Hour
	DefaultPollInterval = 5 * time.Minute
	// DefaultConcurrency is how many events one instance delivers at once:
	// enough that a busy edge does not starve the delivery (at 16, a
	// saturated instance delivered a fifth of what it accepted; see
	// BENCHMARKS.md).
	DefaultConcurrency = 64
	// DefaultMaxInflightBody is how many body bytes one instance holds at
	// once, over all requests and HTTP/2 streams: ten bodies of max_body.
	DefaultMaxInflightBody = 256 << 20
	// DefaultBodyTimeout is the time every body gets before the minimum
	// rate counts.
	DefaultBodyTimeout = 10 * time.Second
	// DefaultBodyMinRate is the slowest a body may arrive on average, in
	// bytes per second, once DefaultBodyTimeout is spent: a 25 MiB body
	// may take 10s + 400s, a 8 KiB one about 11s.
	DefaultBodyMinRate = 64 << 10
	// DefaultMaxOutbox is how many events the outbox holds before new
	// deliveries are refused with 503 (Redis memory stays bounded while the
	// finding service is down).
	DefaultMaxOutbox     = 1_000_000
	defaultAllowUnsigned = "{env.CI_WEBHOOK_ALLOW_UNSIGNED}"
)

// App is the `hookgate` Caddy app: it owns what outlives one request and is
// shared by every hookgate handler in a config: the integration records
// (Vault or static), and the settings that apply to all receivers.
type App struct {
	// Vault holds integration records. Default: none; then only the static
	// Integrations exist.
	Vault *VaultConfig `json:"vault,omitempty"`
	// Redis holds shared state. Default: none (process memory).
	Redis *RedisConfig `json:"redis,omitempty"`
	// Upstream receives normalized events. Default: none (pure gate).
	Upstream *UpstreamConfig `json:"upstream,omitempty"`
	// PublicURL is the external base URL that vendors post to, used to
	// build receiver URLs. Default: none.
	PublicURL string `json:"public_url,omitempty"`
	// AllowUnsigned lets deliveries for integrations that have no secret at
	// all through, annotated `unsigned`, when it resolves to `true` (any
	// case). It never admits a wrong or missing signature when a secret
	// exists. Default: {env.CI_WEBHOOK_ALLOW_UNSIGNED}.
	AllowUnsigned string `json:"allow_unsigned,omitempty"`
	// MaxBody is the largest delivery accepted, in bytes; larger ones are
	// answered 413. Default: 25 MiB.
	MaxBody int64 `json:"max_body,omitempty"`
	// MaxInflightBody bounds the body bytes this instance holds at once,
	// shared by every request and HTTP/2 stream: a request whose declared
	// length does not fit what is left is answered 503 with Retry-After
	// before its body is read, and a body of unknown length that outgrows
	// it is cut the same way. Must be at least MaxBody. Default: 256 MiB.
	MaxInflightBody int64 `json:"max_inflight_body,omitempty"`
	// BodyTimeout is the time a body may take to arrive before the minimum
	// rate applies, whatever the server's own timeouts are; a body that
	// falls behind is answered 408 (or its connection closed when no
	// answer can be written). Default: 10s.
	BodyTimeout caddy.Duration `json:"body_timeout,omitempty"`
	// BodyMinRate is the slowest average rate, in bytes per second, at
	// which a body may arrive once BodyTimeout is spent: a body of n bytes
	// has BodyTimeout + n/BodyMinRate seconds in all. Default: 64 KiB/s.
	BodyMinRate int64 `json:"body_min_rate,omitempty"`
	// MaxOutbox is how many events the outbox may hold (queued, in flight
	// or waiting to retry); a delivery that would take it past this is
	// answered 503 with Retry-After and nothing of it is stored. Only
	// applies when forwarding. Default: 1,000,000.
	MaxOutbox int `json:"max_outbox,omitempty"`
	// AuditSize is how many audit entries are kept per integration and
	// kind (accepted, rejected). Default: 200.
	AuditSize int `json:"audit_size,omitempty"`
	// DedupeWindow is how long a handled delivery id is remembered.
	// Default: 72h.
	DedupeWindow caddy.Duration `json:"dedupe_window,omitempty"`
	// MaxAge refuses (401, audited stale) a webhook whose vendor event
	// time, read from the signed body, is older than this: `off`, or a
	// duration such as "72h" or "3d". An integration's own max_age
	// overrides it. Default: DedupeWindow, so a replayed body is either
	// still remembered or too old.
	MaxAge string `json:"max_age,omitempty"`
	// PollInterval is how often ticket vendors are polled. Default: 5m.
	PollInterval caddy.Duration `json:"poll_interval,omitempty"`
	// FailureLimit configures the brute-force limiter. Default: on, with
	// threshold 20, unknown_threshold 100 and window 10m (see
	// FailureLimitConfig); {"disabled": true} turns it off.
	FailureLimit *FailureLimitConfig `json:"failure_limit,omitempty"`
	// IPLists configures the published address lists allow_ips may name:
	// how often they are refreshed, which load at start and from where.
	// Default: refreshed hourly from the vendors' published URLs, each
	// loaded once something names it.
	IPLists *IPListsConfig `json:"ip_lists,omitempty"`
	// Integrations are static records keyed by integration id, for setups
	// without Vault. They are looked up before Vault.
	Integrations map[string]IntegrationConfig `json:"integrations,omitempty"`

	ctx           caddy.Context // this config's, for the access log check at Start
	logger        *zap.Logger
	logged        []credential // what deliveries can carry that an access log would record
	allowUnsigned bool
	maxAge        time.Duration // 0: off
	static        *secretstore.Static
	vault         *pooledVault
	vaultKey      string
	state         *pooledState
	stateKey      string
	upstream      *upstream.Client
	stopWorker    context.CancelFunc
	workerDone    chan struct{}
	poller        *poller.Poller
	stopPoller    context.CancelFunc
	pollerDone    chan struct{}
	lifecycle     *lifecycle
	limit         *failureLimit // nil: limiter off
	ipLists       *pooledLists  // the published address lists allow_ips names
	ipListsKey    string
	ipListLog     *everyInterval // the "list not loaded" warning, at most once a minute
	bodies        *limiter.Budget
	outboxFullLog *everyInterval // the "outbox full" warning, at most once a minute
	replayAdvice  *replayAdvice  // the token-scheme warning, once per integration
	metrics       *metrics       // nil until provisioned: counts nothing
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "hookgate",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision resolves placeholders, builds the static records and takes the
// shared Vault store from the pool. It does no network I/O.
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger()
	a.lifecycle = newLifecycle()
	repl := caddy.NewReplacer()
	if a.MaxBody == 0 {
		a.MaxBody = DefaultMaxBody
	}
	if a.MaxInflightBody == 0 {
		a.MaxInflightBody = DefaultMaxInflightBody
	}
	if a.BodyTimeout == 0 {
		a.BodyTimeout = caddy.Duration(DefaultBodyTimeout)
	}
	if a.BodyMinRate == 0 {
		a.BodyMinRate = DefaultBodyMinRate
	}
	if a.MaxOutbox == 0 {
		a.MaxOutbox = DefaultMaxOutbox
	}
	a.bodies = limiter.NewBudget(a.MaxInflightBody)
	a.outboxFullLog = &everyInterval{every: outboxFullLogEvery}
	a.replayAdvice = new(replayAdvice)
	if a.AuditSize == 0 {
		a.AuditSize = DefaultAuditSize
	}
	if a.DedupeWindow == 0 {
		a.DedupeWindow = caddy.Duration(DefaultDedupeWindow)
	}
	if a.PollInterval == 0 {
		a.PollInterval = caddy.Duration(DefaultPollInterval)
	}
	a.maxAge = time.Duration(a.DedupeWindow)
	if a.MaxAge != "" {
		d, err := integrations.ParseMaxAge(a.MaxAge)
		if err != nil {
			return fmt.Errorf("hookgate: %w", err)
		}
		a.maxAge = max(d, 0)
	}
	allow := a.AllowUnsigned
	if allow == "" {
		allow = defaultAllowUnsigned
	}
	a.allowUnsigned = strings.EqualFold(strings.TrimSpace(repl.ReplaceAll(allow, "")), "true")

	a.warnLiteralCredentials(a.logger)
	records := make([]integrations.Record, 0, len(a.Integrations))
	for id, ic := range a.Integrations {
		rec, err := ic.record(id, repl)
		if err != nil {
			return err
		}
		records = append(records, rec)
	}
	if err := a.provisionIPLists(repl, records); err != nil {
		return err
	}
	static, err := secretstore.NewStatic(records)
	if err != nil {
		return fmt.Errorf("hookgate: static integrations: %w", err)
	}
	a.static = static
	a.logged = receivedCredentials(records, a.Vault != nil)
	for i := range records {
		// Static integrations get the token-scheme advice at start;
		// Vault's when first served.
		a.replayAdvice.advise(a.logger, &records[i])
	}

	if a.Vault != nil {
		pv, key, err := loadVault(a.Vault, repl)
		if err != nil {
			return err
		}
		a.vault, a.vaultKey = pv, key
	}

	st, key, err := loadState(a.Redis, repl)
	if err != nil {
		return err
	}
	a.state, a.stateKey = st, key
	if a.metrics, err = registerMetrics(ctx.GetMetricsRegistry(), a, st.outbox); err != nil {
		return err
	}
	if a.limit, err = newFailureLimit(a.FailureLimit, st.failures, a.logger); err != nil {
		return err
	}
	if a.Upstream != nil {
		if a.Upstream.Concurrency == 0 {
			a.Upstream.Concurrency = DefaultConcurrency
		}
		headers := make(map[string]string, len(a.Upstream.Headers))
		for k, v := range a.Upstream.Headers {
			headers[k] = repl.ReplaceAll(v, "")
		}
		client, err := upstream.NewClient(upstream.ClientConfig{
			URL:     repl.ReplaceAll(a.Upstream.URL, ""),
			Timeout: time.Duration(a.Upstream.Timeout),
			Headers: headers,
		})
		if err != nil {
			return fmt.Errorf("hookgate: upstream: %w", err)
		}
		a.upstream = client
	}
	return nil
}

// Validate checks the settings' values.
func (a *App) Validate() error {
	if a.MaxBody < 0 {
		return fmt.Errorf("hookgate: max_body must not be negative")
	}
	if a.MaxInflightBody < a.MaxBody {
		return fmt.Errorf("hookgate: max_inflight_body (%d bytes) must be at least max_body (%d bytes)", a.MaxInflightBody, a.MaxBody)
	}
	if a.BodyTimeout < 0 || a.BodyMinRate < 0 || a.MaxOutbox < 0 {
		return fmt.Errorf("hookgate: body_timeout, body_min_rate and max_outbox must not be negative")
	}
	if a.AuditSize < 0 {
		return fmt.Errorf("hookgate: audit_size must not be negative")
	}
	if a.Upstream != nil && a.Upstream.URL == "" {
		return fmt.Errorf("hookgate: upstream needs a URL")
	}
	return nil
}

// Start starts the outbox worker when an upstream is configured, and logs
// how the app runs, and which access logs would record credentials.
func (a *App) Start() error {
	if !a.state.shared() {
		a.logger.Warn("no redis block: the outbox, audit log and dedupe marks live in this process's memory; they are neither durable nor shared with other instances")
	}
	if a.upstream != nil {
		w, err := upstream.NewWorker(upstream.WorkerConfig{
			Outbox:      a.state.outbox,
			Client:      a.upstream,
			MaxAttempts: a.Upstream.MaxAttempts,
			Concurrency: a.Upstream.Concurrency,
			Batch:       a.Upstream.Concurrency,
			Backoff:     upstream.Backoff{First: time.Duration(a.Upstream.BackoffFirst), Max: time.Duration(a.Upstream.BackoffMax)},
			Logger:      a.logger.Named("outbox"),
			OnResult:    a.metrics.attempt,
		})
		if err != nil {
			return fmt.Errorf("hookgate: outbox worker: %w", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		a.stopWorker, a.workerDone = cancel, make(chan struct{})
		go func() {
			defer close(a.workerDone)
			w.Run(ctx)
		}()
		if err := a.startPoller(); err != nil {
			return err
		}
	}
	a.startInvalidation()
	if a.ipLists != nil {
		a.ipLists.lists.Start()
	}
	if a.allowUnsigned {
		a.logger.Warn("CI_WEBHOOK_ALLOW_UNSIGNED is true: deliveries for integrations WITHOUT a secret are let through unverified, annotated 'unsigned'; integrations with a secret still require a valid signature")
	}
	if a.Vault == nil && len(a.Integrations) == 0 {
		a.logger.Warn("no vault block and no integration blocks: every delivery will be refused")
	}
	// At Start, not Provision: every app, the http app's servers and
	// routes among them, is provisioned by now. One warning per finding,
	// per config load.
	a.warnAccessLogs()
	a.warnLaxTrustedProxies()
	return nil
}

// Stop stops the outbox worker; an event in flight stays in the outbox and
// is delivered later (at least once). Pooled clients are released in
// Cleanup.
func (a *App) Stop() error {
	a.stopInvalidation()
	if a.stopPoller != nil {
		a.stopPoller()
		<-a.pollerDone
		a.stopPoller = nil
	}
	if a.stopWorker != nil {
		a.stopWorker()
		<-a.workerDone
		a.stopWorker = nil
	}
	return nil
}

// Cleanup releases this config's hold on the shared Vault store. It is
// safe after a failed Provision.
func (a *App) Cleanup() error {
	var errs []error
	if a.vaultKey != "" {
		_, err := vaultPool.Delete(a.vaultKey)
		a.vaultKey, a.vault = "", nil
		errs = append(errs, err)
	}
	if a.stateKey != "" {
		_, err := statePool.Delete(a.stateKey)
		a.stateKey, a.state = "", nil
		errs = append(errs, err)
	}
	if a.ipListsKey != "" {
		_, err := ipListsPool.Delete(a.ipListsKey)
		a.ipListsKey, a.ipLists = "", nil
		errs = append(errs, err)
	}
	if a.upstream != nil {
		a.upstream.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// forwarding reports whether verified events go to the outbox (an upstream
// is configured) rather than only to the next handler.
func (a *App) forwarding() bool { return a.upstream != nil }

// lookup finds an integration's record: static records first, then Vault.
func (a *App) lookup(ctx context.Context, id string) (integrations.Record, error) {
	c := secretstore.Chain{Static: a.static}
	if a.vault != nil {
		c.Next = a.vault.cache
	}
	return c.Fetch(ctx, id)
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)

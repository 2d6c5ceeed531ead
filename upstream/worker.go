package upstream

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/caddy-hookgate/state"
)

// Worker defaults, applied when the WorkerConfig field is zero.
const (
	DefaultMaxAttempts = 12
	DefaultConcurrency = 4
	DefaultBatch       = 16
	DefaultBlock       = 2 * time.Second
	DefaultDrain       = 3 * time.Second
)

// Results passed to WorkerConfig.OnResult, one per delivery attempt.
const (
	ResultDelivered = "delivered" // 2xx: the event is done
	ResultRetry     = "retry"     // failed, will be tried again later
	ResultDead      = "dead"      // failed for good: moved to the dead letters
)

const (
	// recordTimeout bounds one Done, Retry or Dead call. Outcomes are
	// recorded on a context detached from Run's, so an attempt that
	// finished is not lost to a shutdown that began meanwhile.
	recordTimeout = 5 * time.Second
	// logEvery is the least time between two logs of the same trouble
	// (outbox unavailable, upstream failing).
	logEvery = 5 * time.Second
	// maxErrorLen bounds a last_error from a Deliverer other than Client.
	maxErrorLen = 1024
	// gatherWait is the longest a busy worker waits for more free slots
	// before it reads the outbox.
	gatherWait = 10 * time.Millisecond
)

// Deliverer makes one delivery attempt; *Client is the real one. An error
// that is not a *DeliveryError counts as retryable.
type Deliverer interface {
	Deliver(ctx context.Context, ev state.OutboxEvent) error
}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Outbox hands out events and records outcomes. Required.
	Outbox state.Outbox
	// Client makes the delivery attempts, normally a *Client. Required.
	Client Deliverer
	// Consumer names this worker to the outbox; it must be unique among
	// all workers sharing the outbox, across instances and restarts.
	// Default: hostname-pid-random.
	Consumer string
	// MaxAttempts is how many attempts an event gets before it goes to the
	// dead letters. Default: 12.
	MaxAttempts int
	// Backoff spaces the attempts of one event. Default: 1s doubling to
	// 10m, equal jitter.
	Backoff Backoff
	// Concurrency is how many deliveries run at once. Default: 4.
	Concurrency int
	// Batch is the most events asked of the outbox at once. The worker
	// never asks for more than it has free delivery slots, so no event
	// waits in memory while its claim ages. Default: 16.
	Batch int
	// Block is how long one outbox read waits for an event. Default: 2s.
	Block time.Duration
	// ReclaimAfter is how long an event may stay handed to a consumer
	// without an outcome before another consumer takes it over (the first
	// is presumed dead). It must exceed the longest attempt. Default:
	// 2 × the Client's Timeout + 30s (50s with the default timeout or a
	// Deliverer that has no Timeout method).
	ReclaimAfter time.Duration
	// Drain is how long a stopping worker (Run's ctx cancelled: a config
	// reload, a shutdown) lets the attempts in flight finish. Those that
	// finish are recorded as usual; the rest are cut short and their
	// events handed back (state.Outbox.HandBack), so another worker takes
	// them at once instead of after ReclaimAfter. Default: 3s.
	Drain time.Duration
	// StoreBackoff spaces outbox reads after the outbox failed (Redis
	// down). Default: 1s doubling to 30s.
	StoreBackoff Backoff
	// Now is the clock used for the retry and dead-letter times written to
	// the outbox. Default: time.Now.
	Now func() time.Time
	// Logger receives outbox trouble (at most one line per 5s), dead
	// letters, and upstream failures. Default: no logging.
	Logger *zap.Logger
	// OnResult, if set, is called once per attempt with ResultDelivered,
	// ResultRetry or ResultDead (a bounded metrics label). Attempts cut
	// short by shutdown report nothing. It must be safe for concurrent use.
	OnResult func(result string)
}

// Worker takes events from an outbox and delivers them with bounded
// concurrency, recording each outcome: Done after a 2xx; Retry after a
// retryable failure with attempts left, at now + max(Backoff.Delay,
// Retry-After); Dead after a permanent failure or the last attempt.
type Worker struct {
	outbox       state.Outbox
	client       Deliverer
	consumer     string
	maxAttempts  int
	backoff      Backoff
	concurrency  int
	batch        int
	block        time.Duration
	reclaimAfter time.Duration
	drain        time.Duration
	storeBackoff Backoff
	now          func() time.Time
	logger       *zap.Logger
	onResult     func(string)

	storeLog    logLimiter
	upstreamLog logLimiter
}

// NewWorker checks cfg, applies its defaults and returns a Worker; Run
// starts it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("upstream: worker needs an outbox")
	}
	if cfg.Client == nil {
		return nil, errors.New("upstream: worker needs a client")
	}
	if cfg.MaxAttempts < 0 || cfg.Concurrency < 0 || cfg.Batch < 0 || cfg.Block < 0 || cfg.ReclaimAfter < 0 || cfg.Drain < 0 {
		return nil, errors.New("upstream: worker settings must not be negative")
	}
	w := &Worker{
		outbox:       cfg.Outbox,
		client:       cfg.Client,
		consumer:     cfg.Consumer,
		maxAttempts:  cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts),
		backoff:      cfg.Backoff,
		concurrency:  cmp.Or(cfg.Concurrency, DefaultConcurrency),
		batch:        cmp.Or(cfg.Batch, DefaultBatch),
		block:        cmp.Or(cfg.Block, DefaultBlock),
		reclaimAfter: cfg.ReclaimAfter,
		drain:        cmp.Or(cfg.Drain, DefaultDrain),
		storeBackoff: cfg.StoreBackoff,
		now:          cfg.Now,
		logger:       cfg.Logger,
		onResult:     cfg.OnResult,
	}
	timeout := DefaultTimeout
	if t, ok := cfg.Client.(interface{ Timeout() time.Duration }); ok {
		timeout = t.Timeout()
	}
	if w.reclaimAfter == 0 {
		w.reclaimAfter = 2*timeout + 30*time.Second
	}
	if w.storeBackoff.First == 0 && w.storeBackoff.Max == 0 {
		w.storeBackoff.First, w.storeBackoff.Max = time.Second, 30*time.Second
	}
	if w.consumer == "" {
		w.consumer = defaultConsumer()
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.logger == nil {
		w.logger = zap.NewNop()
	}
	w.logger = w.logger.With(zap.String("consumer", w.consumer))
	if w.reclaimAfter <= timeout+recordTimeout {
		w.logger.Warn("outbox reclaim_after is not longer than one delivery attempt: events may be delivered twice",
			zap.Duration("reclaim_after", w.reclaimAfter), zap.Duration("timeout", timeout))
	}
	return w, nil
}

// Consumer returns the name this worker reads the outbox under.
func (w *Worker) Consumer() string { return w.consumer }

// Run delivers events until ctx is cancelled, then lets the attempts in
// flight finish for up to Drain, cuts the rest short, and returns once
// every one is recorded: a delivered event as Done, a failed one as usual,
// one cut short (or handed out by a read that the cancellation
// interrupted) handed back to the outbox for another worker at once. An
// event whose hand-back fails stays handed to this consumer and is
// reclaimed after ReclaimAfter: at least once, never lost. Outbox failures
// never end Run: it logs them and reads again later. Run is meant to be
// called once per Worker.
func (w *Worker) Run(ctx context.Context) {
	acks := w.startAcker()
	var wg sync.WaitGroup
	// Attempts run on actx: ctx's values, not its cancellation, which
	// only starts the Drain countdown.
	actx, cutShort := context.WithCancel(context.WithoutCancel(ctx))
	stopDrain := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.drain, cutShort)
		context.AfterFunc(actx, func() { t.Stop() })
	})
	defer func() {
		wg.Wait()
		stopDrain()
		cutShort()
		acks.stop()
	}()
	slots := make(chan struct{}, w.concurrency)
	release := func() { <-slots }
	storeFailures := 0
	// busy: the last read filled every free slot, so more events are
	// probably waiting. Then the worker waits a moment (gatherWait) for
	// half its slots before reading again: one outbox round trip per
	// several events rather than per event, while the other half keeps
	// delivering.
	busy := false
	for {
		// Wait for one free slot (a moment longer for half of them when
		// busy), then take every other free one (up to Batch): each event
		// handed out starts its attempt at once.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		free := 1
		if want := min(w.batch, w.concurrency/2); busy && free < want {
			timer := time.NewTimer(gatherWait)
		gather:
			for free < want {
				select {
				case slots <- struct{}{}:
					free++
				case <-timer.C:
					break gather
				case <-ctx.Done():
					timer.Stop()
					for range free {
						release()
					}
					return
				}
			}
			timer.Stop()
		}
	fill:
		for free < w.batch {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break fill
			}
		}

		started := time.Now()
		batch, err := w.outbox.Next(ctx, w.consumer, free, w.block, w.reclaimAfter)
		if ctx.Err() != nil {
			// Anything handed out just now goes back at once.
			w.handBack(batch...)
			return
		}
		if err != nil {
			for range free {
				release()
			}
			busy = false
			w.storeTrouble("outbox read failed", err)
			if !sleep(ctx, w.storeBackoff.Delay(storeFailures)) {
				return
			}
			storeFailures++
			continue
		}
		if storeFailures > 0 {
			w.logger.Info("outbox available again")
			storeFailures = 0
		}
		if len(batch) > free {
			// A misbehaving outbox; the extra events are reclaimed later.
			batch = batch[:free]
		}
		busy = len(batch) == free
		for range free - len(batch) {
			release()
		}
		for _, p := range batch {
			wg.Go(func() {
				defer release()
				w.attempt(ctx, actx, p, acks)
			})
		}
		if len(batch) == 0 && time.Since(started) < w.block/2 {
			// An outbox that does not wait must not make us spin.
			if !sleep(ctx, min(w.block, 100*time.Millisecond)) {
				return
			}
		}
	}
}

// attempt delivers one event on actx and records the outcome: a
// delivered event through acks, in a batch; a failed one at once; one that
// Drain cut short (actx cancelled once Run's ctx was) handed back.
func (w *Worker) attempt(ctx, actx context.Context, p state.Pending, acks *acker) {
	err := w.client.Deliver(actx, p.Event)
	if err == nil {
		acks.ack(p)
		w.result(ResultDelivered)
		return
	}
	if actx.Err() != nil && ctx.Err() != nil {
		w.handBack(p)
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	log := w.logger.With(zap.String("event_id", p.Event.ID), zap.Int("attempt", p.Attempts+1))

	retryable, retryAfter, status := true, time.Duration(0), 0
	var de *DeliveryError
	if errors.As(err, &de) {
		retryable, retryAfter, status = de.Retryable, de.RetryAfter, de.Status
	}
	lastErr := err.Error()
	if len(lastErr) > maxErrorLen {
		lastErr = lastErr[:maxErrorLen] + "…"
	}
	log = log.With(zap.Int("status", status), zap.String("error", lastErr))
	now := w.now()

	if retryable && p.Attempts+1 < w.maxAttempts {
		at := now.Add(max(w.backoff.Delay(p.Attempts), retryAfter))
		if err := w.outbox.Retry(rctx, p, at, lastErr); err != nil {
			w.storeTrouble("could not schedule a retry; the event will be reclaimed", err,
				zap.String("event_id", p.Event.ID))
		}
		if n, ok := w.upstreamLog.allow(); ok {
			log.Warn("upstream delivery failed; will retry",
				zap.Time("retry_at", at), zap.Int("similar_suppressed", n))
		} else if ce := log.Check(zapcore.DebugLevel, "upstream delivery failed; will retry"); ce != nil {
			ce.Write(zap.Time("retry_at", at))
		}
		w.result(ResultRetry)
		return
	}

	if err := w.outbox.Dead(rctx, p, lastErr, now); err != nil {
		w.storeTrouble("could not move a failed event to the dead letters; it will be reclaimed", err,
			zap.String("event_id", p.Event.ID))
	}
	reason := "permanent failure"
	if retryable {
		reason = fmt.Sprintf("%d attempts failed", p.Attempts+1)
	}
	log.Error("event moved to the dead letters", zap.String("reason", reason))
	w.result(ResultDead)
}

// handBack returns events this stopping worker holds to the outbox, for
// another worker at once; when that fails they are reclaimed after
// ReclaimAfter instead.
func (w *Worker) handBack(ps ...state.Pending) {
	if len(ps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := w.outbox.HandBack(ctx, ps...); err != nil {
		w.storeTrouble("could not hand events back at stop; they will be reclaimed", err, zap.Int("events", len(ps)))
		return
	}
	if ce := w.logger.Check(zapcore.DebugLevel, "events handed back at stop"); ce != nil {
		ce.Write(zap.Int("events", len(ps)))
	}
}

// storeTrouble logs an outbox failure, at most once per logEvery.
func (w *Worker) storeTrouble(msg string, err error, fields ...zap.Field) {
	if n, ok := w.storeLog.allow(); ok {
		w.logger.Warn(msg, append(fields, zap.Error(err), zap.Int("similar_suppressed", n))...)
	}
}

// result reports one attempt's outcome to OnResult.
func (w *Worker) result(r string) {
	if w.onResult != nil {
		w.onResult(r)
	}
}

// logLimiter lets one log line through per logEvery and counts the rest.
type logLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now and how many were suppressed since the
// last line that was let through.
func (l *logLimiter) allow() (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < logEvery {
		l.suppressed++
		return 0, false
	}
	suppressed, l.suppressed, l.last = l.suppressed, 0, now
	return suppressed, true
}

// sleep waits for d or until ctx is done; it reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// defaultConsumer names this process uniquely: hostname, pid and a random
// suffix, so a restarted process never inherits its predecessor's claims
// as its own (they are reclaimed instead).
func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "hookgate"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

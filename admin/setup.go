package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// Bounds of setup.
const (
	// DefaultSetupTimeout is how long setup waits for the test delivery
	// when the operator names no timeout.
	DefaultSetupTimeout = 30 * time.Second
	// MaxSetupTimeout is the longest wait setup accepts.
	MaxSetupTimeout = 5 * time.Minute
	// VendorCallTimeout bounds one register or test-delivery call.
	VendorCallTimeout = 30 * time.Second
	// setupPollInterval is how often setup reads the audit log.
	setupPollInterval = 200 * time.Millisecond
)

// SetupReport is what setup answers: how far it got, which delivery it
// took for the test, and why not further.
type SetupReport struct {
	Registered bool   `json:"registered"`
	HookID     string `json:"hook_id,omitempty"`
	TestSent   bool   `json:"test_sent"`
	Verified   bool   `json:"verified"`
	// Delivery and Event are the delivery id and vendor event of the
	// delivery setup took for the test, verified or refused; "" when it
	// saw none.
	Delivery string `json:"delivery"`
	Event    string `json:"event"`
	// Ignored counts the deliveries that arrived while setup waited and
	// were not the test: another hook's or an operator's, or a copy of an
	// earlier delivery (a duplicate, replay or stale one).
	Ignored     int    `json:"ignored"`
	Error       string `json:"error"`
	ManualSteps string `json:"manual_steps,omitempty"`
}

// Setup registers the hook, asks the vendor for a test delivery where it
// can, then watches the integration's audit log for that delivery, and
// that one only (testDelivery says how it is told apart): verified, or
// refused with its reason. Where the vendor's API cannot tell which
// delivery is its test, setup says so and takes none. For a vendor without
// such an API the operator triggers one by hand, and the first new
// delivery that arrives is taken, and named in the report. An unknown
// integration or an unreachable store is an error; every other failure is
// in the report.
func (s *Service) Setup(ctx context.Context, who, id string, timeout time.Duration) (SetupReport, error) {
	if timeout <= 0 || timeout > MaxSetupTimeout {
		return SetupReport{}, fmt.Errorf("%w: timeout must be a duration between 0s and %s", ErrBadRequest, MaxSetupTimeout)
	}
	start := s.Now()
	var out SetupReport
	rec, reg, err := s.register(ctx, id)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		s.log(ctx, who, "setup", id, "failed: "+err.Error())
		return out, err
	}
	if err != nil {
		out.Error = err.Error()
		s.log(ctx, who, "setup", id, "failed: "+out.Error)
		return out, nil
	}
	out.Registered, out.HookID, out.ManualSteps = reg.Registered, reg.HookID, reg.ManualSteps
	var test vendorapi.TestDelivery
	if reg.Registered {
		tctx, cancel := context.WithTimeout(ctx, VendorCallTimeout)
		test, err = vendorapi.SendTest(tctx, s.Client, rec, reg.HookID)
		cancel()
		if err != nil {
			out.Error = "vendor API error: asking for a test delivery: " + err.Error()
			s.log(ctx, who, "setup", id, "failed: "+out.Error)
			return out, nil
		}
		out.TestSent = test.Sent
	}
	if test.Sent && !test.Identified() {
		out.Error = "cannot tell the test delivery apart from other deliveries: " + test.Unidentified +
			"; look for it in the integration's events"
		s.log(ctx, who, "setup", id, "not verified: "+out.Error)
		return out, nil
	}
	seen := s.awaitDelivery(ctx, id, start, timeout, testDelivery(test))
	out.Verified, out.Ignored, out.Error = seen.verified, seen.ignored, seen.problem
	out.Delivery, out.Event = seen.delivery, seen.event
	if !seen.found && out.Error == "" {
		out.Error = fmt.Sprintf("no delivery seen within %s", timeout)
		if test.Sent {
			out.Error = fmt.Sprintf("no test delivery seen within %s", timeout)
		} else {
			out.Error += fmt.Sprintf(" (%s cannot send a test delivery through its API: trigger one, e.g. a push, while setup waits)", rec.Vendor)
		}
	}
	if !out.Verified && out.Ignored > 0 {
		out.Error += fmt.Sprintf("; ignored %d deliveries that were not the test (someone else's, or copies of earlier ones)", out.Ignored)
	}
	outcome := "verified delivery " + out.Delivery
	if !out.Verified {
		outcome = "not verified: " + out.Error
	}
	s.log(ctx, who, "setup", id, outcome)
	return out, nil
}

// sighting is what setup's wait saw.
type sighting struct {
	// found: the test delivery arrived, verified or refused; delivery and
	// event name it.
	found, verified bool
	delivery, event string
	// problem is why it was not verified: its refusal, or the wait's
	// failure; "" when verified or nothing arrived.
	problem string
	// ignored counts the deliveries that were not the test.
	ignored int
}

// awaitDelivery polls id's audit log until the test delivery, told apart
// by want, is there among the entries that arrived at or after start. It
// gives up after timeout with nothing found.
func (s *Service) awaitDelivery(ctx context.Context, id string, start time.Time, timeout time.Duration, want testDelivery) sighting {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(setupPollInterval)
	defer tick.Stop()
	var seen sighting
	for {
		accepted, rejected, err := s.Deliveries.Audit(ctx, id)
		if err == nil {
			if seen = want.find(accepted, rejected, start); seen.found {
				return seen
			}
		}
		select {
		case <-ctx.Done():
			seen.problem = "setup cancelled: " + ctx.Err().Error()
			return seen
		case <-deadline.C:
			if err != nil {
				seen.problem = "reading the audit log: " + err.Error()
			}
			return seen
		case <-tick.C:
		}
	}
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
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

// Registration is what register answers.
type Registration struct {
	Registered  bool   `json:"registered"`
	HookID      string `json:"hook_id,omitempty"`
	Created     bool   `json:"created"`
	ManualSteps string `json:"manual_steps,omitempty"`
}

// SetupReport is what setup answers: how far it got, and why not further.
type SetupReport struct {
	Registered  bool   `json:"registered"`
	HookID      string `json:"hook_id,omitempty"`
	TestSent    bool   `json:"test_sent"`
	Verified    bool   `json:"verified"`
	Error       string `json:"error"`
	ManualSteps string `json:"manual_steps,omitempty"`
}

// register creates or updates the hook on the vendor with the receiver URL
// and the current secret, read from the source (not the cache), so that a
// rotation reaches the vendor.
func (s *Service) register(ctx context.Context, id string) (integrations.Record, Registration, error) {
	rec, _, err := s.Fresh(ctx, id)
	if err != nil {
		return rec, Registration{}, err
	}
	res, err := vendorapi.Register(ctx, s.Client, rec, vendorapi.Hook{URL: s.ReceiverURL(rec), Secret: rec.Secret})
	if err != nil {
		if errors.Is(err, vendorapi.ErrMissingSetting) || errors.Is(err, vendorapi.ErrBadSetting) {
			return rec, Registration{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		return rec, Registration{}, fmt.Errorf("%w: %w", ErrVendor, err)
	}
	return rec, Registration{Registered: res.Registered, HookID: res.HookID, Created: res.Created, ManualSteps: res.ManualSteps}, nil
}

// Register creates or updates the hook on the vendor, or answers the
// manual steps for a vendor without an API for it.
func (s *Service) Register(ctx context.Context, who, id string) (Registration, error) {
	_, reg, err := s.register(ctx, id)
	switch {
	case err != nil:
		s.log(ctx, who, "register", id, "failed: "+err.Error())
		return reg, err
	case !reg.Registered:
		s.log(ctx, who, "register", id, "manual steps answered")
	case reg.Created:
		s.log(ctx, who, "register", id, "created hook "+reg.HookID)
	default:
		s.log(ctx, who, "register", id, "updated hook "+reg.HookID)
	}
	return reg, nil
}

// Setup registers the hook, asks the vendor for a test delivery where it
// can, then watches the integration's audit log for a delivery that
// arrived after the start: a verified one answers verified, a refused one
// its reason. An unknown integration or an unreachable store is an error;
// every other failure is in the report.
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
	if reg.Registered {
		tctx, cancel := context.WithTimeout(ctx, VendorCallTimeout)
		sent, err := vendorapi.SendTest(tctx, s.Client, rec, reg.HookID)
		cancel()
		if err != nil {
			out.Error = "vendor API error: asking for a test delivery: " + err.Error()
			s.log(ctx, who, "setup", id, "failed: "+out.Error)
			return out, nil
		}
		out.TestSent = sent
	}
	out.Verified, out.Error = s.awaitDelivery(ctx, id, start, timeout)
	if !out.Verified && out.Error == "" {
		out.Error = fmt.Sprintf("no delivery seen within %s", timeout)
		if !out.TestSent {
			out.Error += fmt.Sprintf(" (%s cannot send a test delivery through its API: trigger one, e.g. a push, while setup waits)", rec.Vendor)
		}
	}
	outcome := "verified"
	if !out.Verified {
		outcome = "not verified: " + out.Error
	}
	s.log(ctx, who, "setup", id, outcome)
	return out, nil
}

// awaitDelivery polls id's audit log until a delivery that arrived at or
// after start is there: accepted with a valid signature (verified), or
// rejected (its reason). It gives up after timeout with (false, "").
func (s *Service) awaitDelivery(ctx context.Context, id string, start time.Time, timeout time.Duration) (bool, string) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(setupPollInterval)
	defer tick.Stop()
	for {
		accepted, rejected, err := s.Deliveries.Audit(ctx, id)
		if err == nil {
			for _, e := range accepted {
				if !e.Time.Before(start) && e.Signature == "valid" {
					return true, ""
				}
			}
			for _, e := range rejected {
				if !e.Time.Before(start) {
					reason := strings.TrimPrefix(e.Reason, "signature invalid: ")
					if reason == "" {
						reason = e.Signature
					}
					return false, "delivery seen but signature invalid: " + reason
				}
			}
		}
		select {
		case <-ctx.Done():
			return false, "setup cancelled: " + ctx.Err().Error()
		case <-deadline.C:
			if err != nil {
				return false, "reading the audit log: " + err.Error()
			}
			return false, ""
		case <-tick.C:
		}
	}
}

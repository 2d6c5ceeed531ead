package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/iplists"
)

// record turns a static integration block into a validated record,
// resolving placeholders in its string fields.
func (ic IntegrationConfig) record(id string, repl *caddy.Replacer) (integrations.Record, error) {
	r := integrations.Record{
		ID:                 id,
		Vendor:             integrations.Vendor(repl.ReplaceAll(ic.Vendor, "")),
		Secret:             repl.ReplaceAll(ic.Secret, ""),
		PreviousSecret:     repl.ReplaceAll(ic.PreviousSecret, ""),
		Scheme:             integrations.Scheme(ic.Scheme),
		Active:             ic.Active == nil || *ic.Active,
		AutoCloseOnResolve: ic.AutoCloseOnResolve,
		Branches:           ic.Branches,
		Scans:              ic.Scans,
		Pipeline:           ic.Pipeline,
		APIURL:             repl.ReplaceAll(ic.APIURL, ""),
		APIUser:            repl.ReplaceAll(ic.APIUser, ""),
		APIToken:           repl.ReplaceAll(ic.APIToken, ""),
		Target:             ic.Target,
		DoneStates:         ic.DoneStates,
	}
	if until := repl.ReplaceAll(ic.PreviousValidUntil, ""); until != "" {
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			return integrations.Record{}, fmt.Errorf("hookgate: integration %s: previous_valid_until is not RFC 3339", id)
		}
		r.PreviousValidUntil = t
	}
	if ic.MaxAge != "" {
		d, err := integrations.ParseMaxAge(ic.MaxAge)
		if err != nil {
			return integrations.Record{}, fmt.Errorf("hookgate: integration %s: %w", id, err)
		}
		r.MaxAge = d
	}
	if ic.Tolerance != "" {
		d, err := integrations.ParseTolerance(ic.Tolerance)
		if err != nil {
			return integrations.Record{}, fmt.Errorf("hookgate: integration %s: %w", id, err)
		}
		r.Tolerance = d
	}
	allow, err := iplists.ParseAllow(ic.AllowIPs)
	if err != nil {
		return integrations.Record{}, fmt.Errorf("hookgate: integration %s: %w", id, err)
	}
	r.AllowIPs = allow
	if err := r.Validate(); err != nil {
		return integrations.Record{}, fmt.Errorf("hookgate: %w", err)
	}
	return r, nil
}

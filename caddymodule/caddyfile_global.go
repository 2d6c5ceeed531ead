package caddymodule

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/dustin/go-humanize"

	"github.com/hookgate/caddy-hookgate/integrations"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("hookgate", parseGlobalCaddyfile)
}

func parseGlobalCaddyfile(d *caddyfile.Dispenser, _ any) (any, error) {
	var app App
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "hookgate", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile sets up the app from the global `hookgate` block; see
// CONTRACT.md and the README for every subdirective.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // option name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "vault":
			a.Vault = new(VaultConfig)
			err = a.Vault.unmarshal(d)
		case "redis":
			a.Redis = new(RedisConfig)
			err = a.Redis.unmarshal(d)
		case "upstream":
			a.Upstream = new(UpstreamConfig)
			err = a.Upstream.unmarshal(d)
		case "public_url":
			err = oneArg(d, &a.PublicURL)
		case "allow_unsigned":
			err = oneArg(d, &a.AllowUnsigned)
		case "max_body":
			err = sizeArg(d, &a.MaxBody)
		case "max_inflight_body":
			err = sizeArg(d, &a.MaxInflightBody)
		case "body_timeout":
			err = durationArg(d, &a.BodyTimeout)
		case "body_min_rate":
			err = sizeArg(d, &a.BodyMinRate)
		case "max_outbox":
			err = positiveIntArg(d, &a.MaxOutbox)
		case "audit_size":
			err = intArg(d, &a.AuditSize)
		case "dedupe_window":
			err = durationArg(d, &a.DedupeWindow)
		case "poll_interval":
			err = durationArg(d, &a.PollInterval)
		case "max_age":
			err = maxAgeArg(d, &a.MaxAge)
		case "failure_limit":
			a.FailureLimit = new(FailureLimitConfig)
			err = a.FailureLimit.unmarshal(d)
		case "ip_lists":
			a.IPLists = new(IPListsConfig)
			err = a.IPLists.unmarshal(d)
		case "integration":
			var id string
			if err = oneArgKeepBlock(d, &id); err != nil {
				return err
			}
			if a.Integrations == nil {
				a.Integrations = make(map[string]IntegrationConfig)
			}
			if _, dup := a.Integrations[id]; dup {
				return d.Errf("integration %q defined twice", id)
			}
			var ic IntegrationConfig
			if err = ic.unmarshal(d); err == nil {
				a.Integrations[id] = ic
			}
		default:
			return d.Errf("unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (vc *VaultConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "address":
			err = oneArg(d, &vc.Address)
		case "token":
			err = oneArg(d, &vc.Token)
		case "token_file":
			err = oneArg(d, &vc.TokenFile)
		case "approle":
			var role, secret string
			if !d.Args(&role, &secret) || d.NextArg() {
				return d.ArgErr()
			}
			vc.AppRole = &AppRoleConfig{RoleID: role, SecretID: secret}
		case "mount":
			err = oneArg(d, &vc.Mount)
		case "prefix":
			err = oneArg(d, &vc.Prefix)
		case "cache_ttl":
			err = durationArg(d, &vc.CacheTTL)
		case "stale_ttl":
			err = durationArg(d, &vc.StaleTTL)
		case "timeout":
			err = durationArg(d, &vc.Timeout)
		default:
			return d.Errf("vault: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	auth := 0
	for _, set := range []bool{vc.Token != "", vc.TokenFile != "", vc.AppRole != nil} {
		if set {
			auth++
		}
	}
	if vc.Address == "" {
		return d.Err("vault: address is required")
	}
	if auth != 1 {
		return d.Err("vault: exactly one of token, token_file or approle is required")
	}
	return nil
}

func (rc *RedisConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "address":
			rc.Addresses = d.RemainingArgs()
			if len(rc.Addresses) == 0 {
				return d.ArgErr()
			}
		case "sentinel":
			err = oneArg(d, &rc.Sentinel)
		case "username":
			err = oneArg(d, &rc.Username)
		case "password":
			err = oneArg(d, &rc.Password)
		case "db":
			err = intArg(d, &rc.DB)
		case "key_prefix":
			err = oneArg(d, &rc.KeyPrefix)
		default:
			return d.Errf("redis: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if len(rc.Addresses) == 0 {
		return d.Err("redis: address is required")
	}
	return nil
}

// unmarshal reads `failure_limit off` or `failure_limit { threshold <n>;
// unknown_threshold <n>; window <duration> }`; a bare `failure_limit` keeps
// the defaults.
func (fc *FailureLimitConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		if d.Val() != "off" {
			return d.Errf("failure_limit: %q is neither off nor a block", d.Val())
		}
		if d.NextArg() {
			return d.ArgErr()
		}
		fc.Disabled = true
		if d.NextBlock(d.Nesting()) {
			return d.Err("failure_limit: off takes no block")
		}
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "threshold":
			err = positiveIntArg(d, &fc.Threshold)
		case "unknown_threshold":
			err = positiveIntArg(d, &fc.UnknownThreshold)
		case "window":
			if err = durationArg(d, &fc.Window); err == nil && time.Duration(fc.Window) < minFailureWindow {
				return d.Errf("failure_limit: window must be at least %v", minFailureWindow)
			}
		default:
			return d.Errf("failure_limit: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (uc *UpstreamConfig) unmarshal(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	uc.URL = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "timeout":
			err = durationArg(d, &uc.Timeout)
		case "max_attempts":
			err = intArg(d, &uc.MaxAttempts)
		case "concurrency":
			err = positiveIntArg(d, &uc.Concurrency)
		case "backoff":
			var first, longest string
			if !d.Args(&first, &longest) || d.NextArg() {
				return d.ArgErr()
			}
			f, ferr := caddy.ParseDuration(first)
			l, lerr := caddy.ParseDuration(longest)
			if ferr != nil || lerr != nil || f <= 0 || l < f {
				return d.Errf("upstream: backoff needs two durations, first <= longest")
			}
			uc.BackoffFirst, uc.BackoffMax = caddy.Duration(f), caddy.Duration(l)
		case "header":
			var name, value string
			if !d.Args(&name, &value) || d.NextArg() {
				return d.ArgErr()
			}
			if uc.Headers == nil {
				uc.Headers = make(map[string]string)
			}
			uc.Headers[name] = value
		default:
			return d.Errf("upstream: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (ic *IntegrationConfig) unmarshal(d *caddyfile.Dispenser) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "vendor":
			err = oneArg(d, &ic.Vendor)
		case "secret":
			err = oneArg(d, &ic.Secret)
		case "previous_secret":
			err = oneArg(d, &ic.PreviousSecret)
		case "previous_valid_until":
			err = oneArg(d, &ic.PreviousValidUntil)
		case "scheme":
			err = oneArg(d, &ic.Scheme)
		case "active":
			var b bool
			if err = boolArg(d, &b); err == nil {
				ic.Active = &b
			}
		case "auto_close_on_resolve":
			err = boolArg(d, &ic.AutoCloseOnResolve)
		case "pipeline":
			err = boolArg(d, &ic.Pipeline)
		case "branches":
			err = listArg(d, &ic.Branches)
		case "scans":
			err = listArg(d, &ic.Scans)
		case "done_states":
			err = listArg(d, &ic.DoneStates)
		case "api_url":
			err = oneArg(d, &ic.APIURL)
		case "api_user":
			err = oneArg(d, &ic.APIUser)
		case "api_token":
			err = oneArg(d, &ic.APIToken)
		case "target":
			err = oneArg(d, &ic.Target)
		case "max_age":
			err = maxAgeArg(d, &ic.MaxAge)
		case "tolerance":
			err = toleranceArg(d, &ic.Tolerance)
		case "allow_ips":
			err = allowIPsArg(d, &ic.AllowIPs)
		default:
			return d.Errf("integration: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if ic.Vendor == "" {
		return d.Err("integration: vendor is required")
	}
	return nil
}

// maxAgeArg reads one max_age argument: `off` or a positive duration.
func maxAgeArg(d *caddyfile.Dispenser, dst *string) error {
	if err := oneArg(d, dst); err != nil {
		return err
	}
	if _, err := integrations.ParseMaxAge(*dst); err != nil {
		return d.Errf("%v", err)
	}
	return nil
}

// toleranceArg reads one tolerance argument: a duration up to 72h.
func toleranceArg(d *caddyfile.Dispenser, dst *string) error {
	if err := oneArg(d, dst); err != nil {
		return err
	}
	if _, err := integrations.ParseTolerance(*dst); err != nil {
		return d.Errf("%v", err)
	}
	return nil
}

// oneArg reads exactly one argument.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.AllArgs(dst) {
		return d.ArgErr()
	}
	return nil
}

// oneArgKeepBlock reads exactly one argument before an optional block.
func oneArgKeepBlock(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func intArg(d *caddyfile.Dispenser, dst *int) error {
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return d.Errf("%s: not a non-negative integer: %q", d.Val(), s)
	}
	*dst = n
	return nil
}

// positiveIntArg reads exactly one integer of at least 1.
func positiveIntArg(d *caddyfile.Dispenser, dst *int) error {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return d.Errf("%s: not a positive integer: %q", name, s)
	}
	*dst = n
	return nil
}

func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil || dur <= 0 {
		return d.Errf("not a positive duration: %q", s)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// sizeArg reads one positive size such as 25MiB or 65536.
func sizeArg(d *caddyfile.Dispenser, dst *int64) error {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return d.Errf("%s: invalid size %q", name, s)
	}
	*dst = int64(n)
	return nil
}

// boolArg reads an optional true/false; the bare subdirective means true.
func boolArg(d *caddyfile.Dispenser, dst *bool) error {
	args := d.RemainingArgs()
	switch len(args) {
	case 0:
		*dst = true
	case 1:
		b, err := strconv.ParseBool(strings.ToLower(args[0]))
		if err != nil {
			return d.Errf("not true or false: %q", args[0])
		}
		*dst = b
	default:
		return d.ArgErr()
	}
	return nil
}

func listArg(d *caddyfile.Dispenser, dst *[]string) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	*dst = append(*dst, args...)
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*App)(nil)

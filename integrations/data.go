package integrations

import (
	"fmt"
	"maps"
	"time"
)

// Data is r as a Vault KV v2 data map, the inverse of FromData for every field it knows. Defaults are left out,
// and so is a previous secret whose overlap ended before now. Lists are
// []any, the shape FromData reads back.
func (rec Record) Data(now time.Time) map[string]any {
	d := map[string]any{"vendor": string(rec.Vendor)}
	str := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	list := func(k string, v []string) {
		if len(v) == 0 {
			return
		}
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		d[k] = l
	}
	str("secret", rec.Secret)
	if rec.PreviousActive(now) {
		d["previous_secret"] = rec.PreviousSecret
		d["previous_valid_until"] = rec.PreviousValidUntil.UTC().Format(time.RFC3339)
	}
	str("scheme", string(rec.Scheme))
	if !rec.Active {
		d["active"] = false
	}
	if rec.AutoCloseOnResolve {
		d["auto_close_on_resolve"] = true
	}
	list("branches", rec.Branches)
	list("scans", rec.Scans)
	if rec.Pipeline {
		d["pipeline"] = true
	}
	str("api_url", rec.APIURL)
	str("api_user", rec.APIUser)
	str("api_token", rec.APIToken)
	str("target", rec.Target)
	list("done_states", rec.DoneStates)
	str("max_age", rec.maxAgeSetting())
	if rec.Tolerance > 0 {
		d["tolerance"] = rec.Tolerance.String()
	}
	list("allow_ips", rec.AllowIPs.Entries())
	return d
}

// maxAgeSetting is MaxAge as written in a record: "off", a duration, or ""
// for the app's.
func (rec Record) maxAgeSetting() string {
	switch {
	case rec.MaxAge == MaxAgeOff:
		return "off"
	case rec.MaxAge > 0:
		return rec.MaxAge.String()
	}
	return ""
}

// settingKeys are the record fields PUT may change. The webhook secret
// and its rotation state are not among them: only regenerate writes those.
var settingKeys = map[string]bool{
	"vendor": true, "scheme": true, "active": true, "auto_close_on_resolve": true,
	"branches": true, "scans": true, "pipeline": true, "api_url": true,
	"api_user": true, "api_token": true, "target": true, "done_states": true,
	"max_age": true, "tolerance": true,
	"allow_ips": true,
}

// secretKeys are refused by PUT.
var secretKeys = map[string]bool{"secret": true, "previous_secret": true, "previous_valid_until": true}

// MergeSettings applies a PUT body to the current data: a key set to null
// returns that setting to its default. It refuses secret fields and keys
// that are no setting, so a typo cannot pass silently.
func MergeSettings(current, settings map[string]any) (map[string]any, error) {
	out := maps.Clone(current)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range settings {
		switch {
		case secretKeys[k]:
			return nil, fmt.Errorf("%s cannot be set here: use webhook/regenerate", k)
		case !settingKeys[k]:
			return nil, fmt.Errorf("unknown setting %q", k)
		case v == nil:
			delete(out, k)
		default:
			out[k] = v
		}
	}
	return out, nil
}

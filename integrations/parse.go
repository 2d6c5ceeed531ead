package integrations

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/iplists"
)

// FromData builds a record from a Vault KV v2 data map. Values may be JSON
// strings, booleans, numbers or lists; lists may also be written as one
// string separated by spaces or commas. Unknown fields are ignored so a
// record can carry notes for humans. The result is validated.
func FromData(id string, data map[string]any, version int) (Record, error) {
	r := Record{ID: id, Active: true, Version: version}
	var err error
	str := func(key string) string {
		if err != nil {
			return ""
		}
		v, ok := data[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			err = fmt.Errorf("%w: integration %s: field %s must be a string", ErrInvalidRecord, id, key)
		}
		return s
	}
	boolean := func(key string, def bool) bool {
		if err != nil {
			return def
		}
		switch v := data[key].(type) {
		case nil:
			return def
		case bool:
			return v
		case string:
			if v == "" {
				return def
			}
			b, perr := strconv.ParseBool(v)
			if perr != nil {
				err = fmt.Errorf("%w: integration %s: field %s must be true or false", ErrInvalidRecord, id, key)
			}
			return b
		default:
			err = fmt.Errorf("%w: integration %s: field %s must be true or false", ErrInvalidRecord, id, key)
			return def
		}
	}
	list := func(key string) []string {
		if err != nil {
			return nil
		}
		switch v := data[key].(type) {
		case nil:
			return nil
		case string:
			return SplitList(v)
		case []any:
			out := make([]string, 0, len(v))
			for _, e := range v {
				switch e := e.(type) {
				case string:
					out = append(out, e)
				case float64, int, int64, json.Number:
					out = append(out, fmt.Sprint(e))
				default:
					err = fmt.Errorf("%w: integration %s: field %s must be a list of strings", ErrInvalidRecord, id, key)
					return nil
				}
			}
			return out
		default:
			err = fmt.Errorf("%w: integration %s: field %s must be a list of strings", ErrInvalidRecord, id, key)
			return nil
		}
	}
	r.Vendor = Vendor(str("vendor"))
	r.Secret = str("secret")
	r.PreviousSecret = str("previous_secret")
	if until := str("previous_valid_until"); until != "" && err == nil {
		t, perr := time.Parse(time.RFC3339, until)
		if perr != nil {
			return Record{}, fmt.Errorf("%w: integration %s: previous_valid_until is not RFC 3339", ErrInvalidRecord, id)
		}
		r.PreviousValidUntil = t
	}
	r.Scheme = Scheme(str("scheme"))
	r.Active = boolean("active", true)
	r.AutoCloseOnResolve = boolean("auto_close_on_resolve", false)
	r.Branches = list("branches")
	r.Scans = list("scans")
	r.Pipeline = boolean("pipeline", false)
	r.APIURL = str("api_url")
	r.APIUser = str("api_user")
	r.APIToken = str("api_token")
	r.Target = str("target")
	r.DoneStates = list("done_states")
	if ma := str("max_age"); ma != "" && err == nil {
		d, perr := ParseMaxAge(ma)
		if perr != nil {
			return Record{}, fmt.Errorf("%w: integration %s: %w", ErrInvalidRecord, id, perr)
		}
		r.MaxAge = d
	}
	if tol := str("tolerance"); tol != "" && err == nil {
		d, perr := ParseTolerance(tol)
		if perr != nil {
			return Record{}, fmt.Errorf("%w: integration %s: %w", ErrInvalidRecord, id, perr)
		}
		r.Tolerance = d
	}
	if ips := list("allow_ips"); len(ips) > 0 && err == nil {
		a, perr := iplists.ParseAllow(ips)
		if perr != nil {
			return Record{}, fmt.Errorf("%w: integration %s: %w", ErrInvalidRecord, id, perr)
		}
		r.AllowIPs = a
	}
	if err != nil {
		return Record{}, err
	}
	if verr := r.Validate(); verr != nil {
		return Record{}, verr
	}
	return r, nil
}

// SplitList splits a list written as one string on spaces and commas.
func SplitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	if len(f) == 0 {
		return nil
	}
	return f
}

package caddymodule

import (
	"slices"
	"strings"

	"go.uber.org/zap"
)

// literalCredentials names every field of a's config that holds a
// credential written literally rather than as a placeholder: the JSON
// config keeps it as written, so `GET /config/` on the admin endpoint
// shows it to anyone who can reach that. `{env.*}` and `{file.*}` are
// resolved when the config loads and never stored. The names say where
// (the integration, the header), never the value.
func (a *App) literalCredentials() []string {
	var out []string
	literal := func(v string) bool { return v != "" && !containsPlaceholder(v) }
	ids := make([]string, 0, len(a.Integrations))
	for id := range a.Integrations {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ic := a.Integrations[id]
		for _, f := range []struct{ name, value string }{
			{"secret", ic.Secret}, {"previous_secret", ic.PreviousSecret}, {"api_token", ic.APIToken},
		} {
			if literal(f.value) {
				out = append(out, "integration "+id+": "+f.name)
			}
		}
	}
	if u := a.Upstream; u != nil {
		names := make([]string, 0, len(u.Headers))
		for k, v := range u.Headers {
			if literal(v) && credentialHeader(k) {
				names = append(names, "upstream header "+k)
			}
		}
		slices.Sort(names)
		out = append(out, names...)
	}
	if v := a.Vault; v != nil {
		if literal(v.Token) {
			out = append(out, "vault token")
		}
		if v.AppRole != nil && literal(v.AppRole.SecretID) {
			out = append(out, "vault approle secret_id")
		}
	}
	if r := a.Redis; r != nil && literal(r.Password) {
		out = append(out, "redis password")
	}
	return out
}

// credentialHeader reports whether an upstream header name carries a
// credential: Authorization and the names that say token, key, secret or
// signature.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "authorization" || n == "proxy-authorization" || n == "cookie" {
		return true
	}
	for _, w := range []string{"token", "key", "secret", "signature", "auth", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// warnLiteralCredentials logs, once per config load, every credential
// field written literally (literalCredentials), by name.
func (a *App) warnLiteralCredentials(logger *zap.Logger) {
	if fields := a.literalCredentials(); len(fields) > 0 {
		logger.Warn("credentials written literally in the config: the admin endpoint's GET /config/ shows them as written; use {env.NAME} or {file.path}, resolved at load and never stored",
			zap.Strings("fields", fields))
	}
}

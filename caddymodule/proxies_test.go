package caddymodule

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// A server that routes to hookgate and trusts proxies without
// trusted_proxies_strict, with the limiter on, gets one warning at start
// naming it; strict, the limiter off, or a server without hookgate, none.
func TestLaxTrustedProxiesWarnedAtStart(t *testing.T) {
	const lax = "\tservers {\n\t\ttrusted_proxies static 10.0.0.0/8\n\t}\n"
	const strict = "\tservers {\n\t\ttrusted_proxies static 10.0.0.0/8\n\t\ttrusted_proxies_strict\n\t}\n"
	plain := ":18081 {\n\trespond 200\n}\n"
	for _, tc := range []struct {
		name, global, sites string
		limiterOff          bool
		want                []string
	}{
		{"lax, limiter on", lax, hookgateSite(":18080", ""), false, []string{"srv0"}},
		{"strict, limiter on", strict, hookgateSite(":18080", ""), false, nil},
		{"lax, limiter off", lax, hookgateSite(":18080", ""), true, nil},
		{"no proxies trusted", "", hookgateSite(":18080", ""), false, nil},
		{"lax, no hookgate", lax, plain, false, nil},
		{"lax, one of two servers routes to hookgate", lax, hookgateSite(":18080", "") + plain, false, []string{"srv0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := provisionCaddyfile(t, accessLogCaddyfile(tc.global, tc.sites))
			if tc.limiterOff {
				a.limit = nil
			}
			core, logs := observer.New(zapcore.WarnLevel)
			a.logger = zap.New(core)
			a.warnLaxTrustedProxies()
			var got []string
			for _, e := range logs.All() {
				if strings.Contains(e.Message, "trusted_proxies_strict") {
					got = append(got, e.ContextMap()["server"].(string))
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("warned for servers %v, want %v", got, tc.want)
			}
		})
	}
}

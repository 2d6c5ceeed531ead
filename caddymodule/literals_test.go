package caddymodule

import (
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Credentials written literally are named in one warning, by field; the
// values never appear; placeholders are not literals.
func TestLiteralCredentialsWarned(t *testing.T) {
	a := &App{
		Integrations: map[string]IntegrationConfig{
			"gh":  {Vendor: "github", Secret: "gh2-literal-secret", APIToken: "{env.GH_TOKEN}"},
			"sn":  {Vendor: "servicenow", Secret: "{file./run/sn}", PreviousSecret: "old-literal", APIToken: "sn-literal-token"},
			"off": {Vendor: "github"},
		},
		Upstream: &UpstreamConfig{Headers: map[string]string{"Authorization": "Bearer literal-findings", "X-Tenant": "acme", "X-Api-Key": "{env.K}"}},
		Vault:    &VaultConfig{Token: "hvs.literal"},
		Redis:    &RedisConfig{Password: "{env.REDIS_PASSWORD}"},
	}
	want := []string{"integration gh: secret", "integration sn: previous_secret", "integration sn: api_token", "upstream header Authorization", "vault token"}
	if got := a.literalCredentials(); !slices.Equal(got, want) {
		t.Fatalf("literal fields %q, want %q", got, want)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	a.warnLiteralCredentials(zap.New(core))
	if logs.Len() != 1 {
		t.Fatalf("%d warnings, want one", logs.Len())
	}
	line := logs.All()[0].Message
	for _, f := range logs.All()[0].Context {
		line += " " + f.String + strings.Join(func() []string { s, _ := f.Interface.([]string); return s }(), " ")
	}
	for _, secret := range []string{"gh2-literal-secret", "old-literal", "sn-literal-token", "literal-findings", "hvs.literal"} {
		if strings.Contains(line, secret) {
			t.Errorf("the warning carries %q", secret)
		}
	}
	quiet := &App{Integrations: map[string]IntegrationConfig{"gh": {Vendor: "github", Secret: "{env.S}"}}}
	core, logs = observer.New(zapcore.WarnLevel)
	quiet.warnLiteralCredentials(zap.New(core))
	if logs.Len() != 0 {
		t.Errorf("placeholders warned: %v", logs.All())
	}
}

package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// TestViewHasNoSecretValues: the view shows that there is a secret and
// where the vendor posts, and no secret or token value.
func TestViewHasNoSecretValues(t *testing.T) {
	a := &App{PublicURL: "https://hooks.example.com/"}
	rec := integrations.Record{ID: "gh", Vendor: integrations.GitHub, Secret: "secret-value-1", PreviousSecret: "secret-value-0",
		PreviousValidUntil: time.Now().Add(time.Hour), Active: true, APIToken: "token-value", Target: "o/r", Version: 3}
	raw, _ := json.Marshal(a.view(rec, false))
	for _, s := range []string{"secret-value", "token-value"} {
		if strings.Contains(string(raw), s) {
			t.Fatalf("view contains %s: %s", s, raw)
		}
	}
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	if v["has_secret"] != true || v["secret_version"] != 3.0 || v["previous_active"] != true || v["previous_valid_until"] == nil ||
		v["receiver_path"] != "/webhooks/ci/github/gh" || v["receiver_url"] != "https://hooks.example.com/webhooks/ci/github/gh" {
		t.Fatalf("view %s", raw)
	}
}

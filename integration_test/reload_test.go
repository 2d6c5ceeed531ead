package integration_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// TestSecretWrittenInVaultAndRegisteredVerifiesEverywhere: a secret
// changed straight in Vault (as `vault kv put` does) and then registered
// through instance A is the one both instances verify with at once,
// although each caches records for an hour and the old record is in both
// caches; a reveal on instance B does the same the other way round. Before
// issue 13 the register gave the vendor the new secret while both
// verifiers kept the old one until cache_ttl ran out.
func TestSecretWrittenInVaultAndRegisteredVerifiesEverywhere(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	api := newFakeGitHubAPI(t, "gh-api-token-reload-41c")
	const id = "reload-gh"
	record := func(secret string) map[string]any {
		return map[string]any{"vendor": "github", "secret": secret, "api_url": api.URL, "api_token": api.token, "target": "acme/payments-api"}
	}
	s1, s2, s3 := "reload-secret-1-8d3a", "reload-secret-2-f07b", "reload-secret-3-2c95"
	putRecord(t, vault, id, record(s1))
	a := startLifecycle(t, vault, redisAddr, prefix)
	b := startLifecycle(t, vault, redisAddr, prefix)
	both := []*lifecycleCaddy{a, b}
	for _, c := range both { // both caches hold s1 for an hour
		if st := c.postGitHub(t, id, s1); st != http.StatusAccepted {
			t.Fatalf("s1 before the change: %d", st)
		}
	}

	putRecord(t, vault, id, record(s2)) // straight into Vault: no instance is told
	if st := a.postGitHub(t, id, s2); st != http.StatusUnauthorized {
		t.Fatalf("s2 before any admin read: %d, want 401 (the cache holds s1 for an hour)", st)
	}
	reg := a.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/register", nil, http.StatusOK)
	registered := time.Now()
	if reg.body["registered"] != true {
		t.Fatalf("register: %s", reg.raw)
	}
	hooks, _, _, _ := api.snapshot()
	if len(hooks) != 1 || hooks[0].Config.Secret != s2 {
		t.Fatal("the vendor was not given the secret in Vault")
	}
	if st := a.postGitHub(t, id, s2); st != http.StatusAccepted {
		t.Fatalf("s2 on the instance that registered: %d, want 202", st)
	}
	withinSecond(t, registered, "the other instance verifies with the registered secret", func() bool { return b.postGitHub(t, id, s2) == http.StatusAccepted })
	for _, c := range both {
		if st := c.postGitHub(t, id, s1); st != http.StatusUnauthorized {
			t.Fatalf("s1 after the register: %d, want 401", st)
		}
	}

	// The other way round, through a reveal on B.
	putRecord(t, vault, id, record(s3))
	rev := b.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/reveal", nil, http.StatusOK)
	revealed := time.Now()
	if rev.body["secret"] != s3 {
		t.Fatal("reveal did not answer the secret in Vault")
	}
	if st := b.postGitHub(t, id, s3); st != http.StatusAccepted {
		t.Fatalf("s3 on the instance that revealed: %d, want 202", st)
	}
	withinSecond(t, revealed, "the other instance verifies with the revealed secret", func() bool { return a.postGitHub(t, id, s3) == http.StatusAccepted })

	for _, c := range both {
		assertNoSecretIn(t, "Caddy's log", c.caddy.Log(), s1, s2, s3, api.token)
	}
}

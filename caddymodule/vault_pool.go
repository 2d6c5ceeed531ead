package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/secretstore"
)

// vaultPool shares one Vault client and record cache across config reloads:
// a reload with the same vault settings keeps its connections and cache.
var vaultPool = caddy.NewUsagePool()

// pooledVault is the pool's value: a Vault fetcher behind its cache.
type pooledVault struct {
	vault *secretstore.Vault
	cache *secretstore.Cache
}

// Destruct closes the Vault client when the last config using it is gone.
func (p *pooledVault) Destruct() error {
	p.vault.Close()
	return nil
}

// loadVault resolves the config's placeholders and returns the shared store
// for it, creating it on first use. The pool key is a hash of the resolved
// settings, so no secret is kept as a key.
func loadVault(vc *VaultConfig, repl *caddy.Replacer) (*pooledVault, string, error) {
	cfg := secretstore.VaultConfig{
		Address:   repl.ReplaceAll(vc.Address, ""),
		Token:     repl.ReplaceAll(vc.Token, ""),
		TokenFile: repl.ReplaceAll(vc.TokenFile, ""),
		Mount:     repl.ReplaceAll(vc.Mount, ""),
		Prefix:    repl.ReplaceAll(vc.Prefix, ""),
		Timeout:   time.Duration(vc.Timeout),
	}
	if vc.AppRole != nil {
		cfg.RoleID = repl.ReplaceAll(vc.AppRole.RoleID, "")
		cfg.SecretID = repl.ReplaceAll(vc.AppRole.SecretID, "")
	}
	opts := secretstore.CacheOptions{TTL: time.Duration(vc.CacheTTL), StaleTTL: time.Duration(vc.StaleTTL)}
	raw, err := json.Marshal(struct {
		C             secretstore.VaultConfig
		TTL, StaleTTL time.Duration
	}{cfg, opts.TTL, opts.StaleTTL})
	if err != nil {
		return nil, "", fmt.Errorf("hookgate: vault pool key: %w", err)
	}
	sum := sha256.Sum256(raw)
	key := "vault:" + hex.EncodeToString(sum[:])
	val, _, err := vaultPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		v, err := secretstore.NewVault(cfg)
		if err != nil {
			return nil, err
		}
		// The known-id set: unknown ids cost no Vault read. Without the
		// list capability the cache reads every id, as it did before.
		opts.Lister = v
		opts.OnListError = func(err error) {
			caddy.Log().Named("hookgate").Warn("listing integrations in Vault failed; every unknown integration id costs a Vault read until listing works (grant list on the prefix's metadata path)",
				zap.Error(err))
		}
		return &pooledVault{vault: v, cache: secretstore.NewCache(v, opts)}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("hookgate: vault: %w", err)
	}
	return val.(*pooledVault), key, nil
}

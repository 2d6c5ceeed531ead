package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
)

// VaultConfig locates the integration records in HashiCorp Vault KV v2.
// Exactly one of Token, TokenFile or AppRole must be set. Every string field
// accepts placeholders such as {env.VAULT_TOKEN}, resolved at provision time
// so the JSON config never holds the value itself.
type VaultConfig struct {
	// Address is Vault's URL, e.g. https://vault.internal:8200. Required.
	Address string `json:"address,omitempty"`
	// Token is a static Vault token. Conflicts with TokenFile and AppRole.
	Token string `json:"token,omitempty"`
	// TokenFile is a file holding the token (e.g. written by Vault Agent);
	// it is read again when Vault refuses the token.
	TokenFile string `json:"token_file,omitempty"`
	// AppRole logs in with a role id and secret id on first use.
	AppRole *AppRoleConfig `json:"approle,omitempty"`
	// Mount is the KV v2 mount. Default: secret.
	Mount string `json:"mount,omitempty"`
	// Prefix is the path under the mount that holds one record per
	// integration. Default: hookgate/integrations.
	Prefix string `json:"prefix,omitempty"`
	// CacheTTL is how long a record is trusted without asking Vault.
	// Default: 30s.
	CacheTTL caddy.Duration `json:"cache_ttl,omitempty"`
	// StaleTTL is how long a cached record keeps serving while Vault is
	// unreachable. Default: 15m.
	StaleTTL caddy.Duration `json:"stale_ttl,omitempty"`
	// Timeout bounds each Vault request. Default: 5s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// AppRoleConfig holds Vault AppRole credentials.
type AppRoleConfig struct {
	// RoleID is the AppRole role id. Required.
	RoleID string `json:"role_id,omitempty"`
	// SecretID is the AppRole secret id. Required.
	SecretID string `json:"secret_id,omitempty"`
}

// RedisConfig locates the Redis that holds the outbox, audit log, dedupe
// marks and poller state. Without it, state lives in process memory.
type RedisConfig struct {
	// Addresses are host:port pairs; several mean a cluster, unless Sentinel
	// names a master. Default: none (in-memory state).
	Addresses []string `json:"addresses,omitempty"`
	// Sentinel is the master name when Addresses are sentinels.
	Sentinel string `json:"sentinel,omitempty"`
	// Username for Redis ACLs. Default: none.
	Username string `json:"username,omitempty"`
	// Password for Redis AUTH; placeholders allowed. Default: none.
	Password string `json:"password,omitempty"`
	// DB selects the database of a single server. Default: 0.
	DB int `json:"db,omitempty"`
	// KeyPrefix starts every key hookgate writes. Default: hookgate:.
	KeyPrefix string `json:"key_prefix,omitempty"`
}

// UpstreamConfig is the finding service that normalized events are
// delivered to. Without it the handler is a pure gate.
type UpstreamConfig struct {
	// URL receives one POST per event. Required.
	URL string `json:"url,omitempty"`
	// Timeout bounds one delivery attempt. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// MaxAttempts before an event goes to the dead letters. Default: 12.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// BackoffFirst is the first wait between attempts. Default: 1s.
	BackoffFirst caddy.Duration `json:"backoff_first,omitempty"`
	// BackoffMax is the longest wait between attempts. Default: 10m.
	BackoffMax caddy.Duration `json:"backoff_max,omitempty"`
	// Headers are added to every delivery; values accept placeholders.
	Headers map[string]string `json:"headers,omitempty"`
	// Concurrency is how many events this instance delivers at once.
	// Default: 64.
	Concurrency int `json:"concurrency,omitempty"`
}

// IntegrationConfig is a static integration record written in the config,
// for setups without Vault. Field meanings and defaults are those of the
// Vault record (see integrations.Record). String fields accept
// placeholders, so secrets can come from {env.*} or {file.*}.
type IntegrationConfig struct {
	// Vendor is one of the nine vendor names. Required.
	Vendor string `json:"vendor,omitempty"`
	// Secret is the webhook secret or token. Default: none (unsigned).
	Secret string `json:"secret,omitempty"`
	// PreviousSecret stays valid until PreviousValidUntil (RFC 3339).
	PreviousSecret string `json:"previous_secret,omitempty"`
	// PreviousValidUntil ends the rotation overlap, RFC 3339.
	PreviousValidUntil string `json:"previous_valid_until,omitempty"`
	// Scheme pins one verification scheme. Default: the vendor's default.
	Scheme string `json:"scheme,omitempty"`
	// Active false refuses every delivery. Default: true.
	Active *bool `json:"active,omitempty"`
	// AutoCloseOnResolve closes findings on done tickets. Default: false.
	AutoCloseOnResolve bool `json:"auto_close_on_resolve,omitempty"`
	// Branches are globs for scans and pipelines. Default: all.
	Branches []string `json:"branches,omitempty"`
	// Scans are sast and/or sca. Default: none.
	Scans []string `json:"scans,omitempty"`
	// Pipeline requests pipeline runs. Default: false.
	Pipeline bool `json:"pipeline,omitempty"`
	// APIURL is the vendor API base URL. Default: none.
	APIURL string `json:"api_url,omitempty"`
	// APIUser is the vendor API user. Default: none.
	APIUser string `json:"api_user,omitempty"`
	// APIToken is the vendor API token. Default: none.
	APIToken string `json:"api_token,omitempty"`
	// Target is what registration puts the hook on. Default: none.
	Target string `json:"target,omitempty"`
	// DoneStates override the vendor's done states. Default: vendor's.
	DoneStates []string `json:"done_states,omitempty"`
	// MaxAge overrides the app's max_age for this integration: `off` or a
	// duration. Default: the app's.
	MaxAge string `json:"max_age,omitempty"`
	// Tolerance is how far a Standard Webhooks webhook-timestamp (GitLab
	// `signing`) may be from the clock, either way: a duration up to 72h,
	// capped at dedupe_window. Default: 5m.
	Tolerance string `json:"tolerance,omitempty"`
	// AllowIPs admits deliveries only from these addresses: IP addresses,
	// CIDRs (IPv4 or IPv6) and published lists (github, atlassian,
	// bitbucket). Default: none, any address.
	AllowIPs []string `json:"allow_ips,omitempty"`
}

// IPListsConfig configures the published address lists an integration's
// allow_ips may name (github, atlassian, bitbucket).
type IPListsConfig struct {
	// Refresh is how often a loaded list is fetched again; a failed
	// refresh keeps the last good copy and is retried sooner. Default: 1h.
	Refresh caddy.Duration `json:"refresh,omitempty"`
	// Lists are loaded at start whether or not a static integration names
	// them, each from the URL given ("" for the list's published URL).
	// Name here the lists Vault records use: a list nothing loaded yet is
	// only fetched when the first delivery that needs it arrives, and that
	// delivery is answered 503. Default: none; the lists static
	// integrations name load at start, from their published URLs.
	Lists map[string]string `json:"lists,omitempty"`
}

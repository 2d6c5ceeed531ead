package secretstore

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Defaults of VaultConfig.
const (
	DefaultMount        = "secret"
	DefaultPrefix       = "hookgate/integrations"
	DefaultVaultTimeout = 5 * time.Second
)

// VaultConfig says where integration records live in Vault and how hookgate
// authenticates. Exactly one auth method is set: Token, TokenFile, or
// RoleID with SecretID.
type VaultConfig struct {
	// Address is Vault's URL, e.g. https://vault.example.com:8200. Required.
	// TLS settings come from the usual VAULT_CACERT, VAULT_CLIENT_CERT, ...
	// environment variables; VAULT_ADDR, VAULT_AGENT_ADDR and VAULT_TOKEN
	// are ignored.
	Address string
	// Token is a static Vault token. Conflicts with TokenFile and AppRole.
	Token string
	// TokenFile is a file holding the token (e.g. written by Vault Agent).
	// It is read at first use and re-read whenever Vault answers 403, so an
	// agent may rotate it. Conflicts with Token and AppRole.
	TokenFile string
	// RoleID and SecretID log in with the AppRole method at first use (never
	// in NewVault) and again when the token nears the end of its lease or
	// Vault answers 403. Both are required together; they conflict with
	// Token and TokenFile.
	RoleID, SecretID string
	// Mount is the KV v2 mount. Default: "secret".
	Mount string
	// Prefix is the folder under the mount holding one record per
	// integration id. Default: "hookgate/integrations".
	Prefix string
	// Timeout bounds each request to Vault. Requests are not retried: the
	// Cache serves stale records and asks again. Default: 5s.
	Timeout time.Duration
}

type authMethod int

const (
	authToken authMethod = iota
	authTokenFile
	authAppRole
)

// errVaultClosed is returned by every method after Close.
var errVaultClosed = errors.New("client closed")

// Vault is a Fetcher reading integration records from Vault KV v2 at
// <mount>/data/<prefix>/<id>. It is safe for concurrent use.
type Vault struct {
	cfg     VaultConfig
	auth    authMethod
	client  *api.Client // carries the current token
	login   *api.Client // tokenless, for AppRole logins
	httpCli *http.Client
	now     func() time.Time

	mu      sync.Mutex // guards the fields below and every token change
	token   string     // "" until first use for TokenFile and AppRole
	renewAt time.Time  // AppRole: log in again at or after; zero: never
	closed  bool
}

// NewVault validates cfg and builds the client. It does no network I/O and
// reads no token file: credentials are first used by the first request.
func NewVault(cfg VaultConfig) (*Vault, error) {
	if cfg.Address == "" {
		return nil, errors.New("vault: address is required")
	}
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("vault: address is not an http(s) URL") // not echoed: it may hold userinfo
	}
	v := &Vault{cfg: cfg, now: time.Now}
	methods := 0
	if cfg.Token != "" {
		methods++
		v.auth = authToken
	}
	if cfg.TokenFile != "" {
		methods++
		v.auth = authTokenFile
	}
	if cfg.RoleID != "" || cfg.SecretID != "" {
		if cfg.RoleID == "" || cfg.SecretID == "" {
			return nil, errors.New("vault: approle needs both role_id and secret_id")
		}
		methods++
		v.auth = authAppRole
	}
	if methods != 1 {
		return nil, fmt.Errorf("vault: configure exactly one of token, token_file or approle (got %d)", methods)
	}
	v.cfg.Mount = strings.Trim(cfg.Mount, "/")
	if v.cfg.Mount == "" {
		v.cfg.Mount = DefaultMount
	}
	v.cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if v.cfg.Prefix == "" {
		v.cfg.Prefix = DefaultPrefix
	}
	if v.cfg.Timeout <= 0 {
		v.cfg.Timeout = DefaultVaultTimeout
	}

	conf := api.DefaultConfig()
	if conf.Error != nil {
		return nil, fmt.Errorf("vault: reading VAULT_* environment: %w", conf.Error)
	}
	conf.Address = cfg.Address
	conf.AgentAddress = ""
	conf.Timeout = v.cfg.Timeout
	conf.MaxRetries = 0
	v.httpCli = conf.HttpClient
	if v.client, err = api.NewClient(conf); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	v.client.ClearToken() // never VAULT_TOKEN from the environment
	if v.login, err = v.client.Clone(); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	v.login.ClearToken()
	if v.auth == authToken {
		v.token = cfg.Token
		v.client.SetToken(cfg.Token)
	}
	return v, nil
}

// Fetch reads the latest version of id's record. A missing, deleted or
// destroyed record is ErrNotFound; one integrations.FromData rejects is
// ErrInvalid. Record.Version is the KV v2 metadata version.
func (v *Vault) Fetch(ctx context.Context, id string) (integrations.Record, error) {
	if !integrations.ValidID(id) {
		return integrations.Record{}, ErrNotFound
	}
	where := v.cfg.Mount + "/data/" + v.path(id)
	var s *api.KVSecret
	err := v.call(ctx, func(ctx context.Context) error {
		var err error
		s, err = v.client.KVv2(v.cfg.Mount).Get(ctx, v.path(id))
		return err
	})
	if errors.Is(err, api.ErrSecretNotFound) {
		return integrations.Record{}, fmt.Errorf("%w: vault %s", ErrNotFound, where)
	}
	if err != nil {
		return integrations.Record{}, fmt.Errorf("vault: reading %s: %w", where, err)
	}
	if s == nil || s.Data == nil || (s.VersionMetadata != nil && s.VersionMetadata.Destroyed) {
		return integrations.Record{}, fmt.Errorf("%w: vault %s (deleted)", ErrNotFound, where)
	}
	version := 0
	if s.VersionMetadata != nil {
		version = s.VersionMetadata.Version
	}
	rec, err := integrations.FromData(id, normalizeNumbers(s.Data), version)
	if err != nil {
		return integrations.Record{}, asInvalid(fmt.Errorf("vault %s version %d: %w", where, version, err))
	}
	return rec, nil
}

// Write stores data as a new version of id's record and returns that
// version. It does not validate data: callers check it with
// integrations.FromData first.
func (v *Vault) Write(ctx context.Context, id string, data map[string]any) (int, error) {
	if !integrations.ValidID(id) {
		return 0, fmt.Errorf("vault: %w: malformed integration id", integrations.ErrInvalidRecord)
	}
	where := v.cfg.Mount + "/data/" + v.path(id)
	var s *api.KVSecret
	err := v.call(ctx, func(ctx context.Context) error {
		var err error
		s, err = v.client.KVv2(v.cfg.Mount).Put(ctx, v.path(id), data)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("vault: writing %s: %w", where, err)
	}
	if s == nil || s.VersionMetadata == nil {
		return 0, fmt.Errorf("vault: writing %s: no version in the answer", where)
	}
	return s.VersionMetadata.Version, nil
}

// List returns the integration ids under the prefix, sorted. Sub-folders and
// keys that are not valid integration ids are left out.
func (v *Vault) List(ctx context.Context) ([]string, error) {
	where := v.cfg.Mount + "/metadata/" + v.cfg.Prefix
	var s *api.Secret
	err := v.call(ctx, func(ctx context.Context) error {
		var err error
		s, err = v.client.Logical().ListWithContext(ctx, where)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vault: listing %s: %w", where, err)
	}
	ids := []string{}
	if s == nil || s.Data == nil {
		return ids, nil
	}
	keys, _ := s.Data["keys"].([]any)
	for _, k := range keys {
		if id, ok := k.(string); ok && integrations.ValidID(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Close forgets the token and closes idle connections. Later calls fail.
func (v *Vault) Close() {
	v.mu.Lock()
	v.closed = true
	v.token = ""
	v.client.ClearToken()
	v.mu.Unlock()
	v.httpCli.CloseIdleConnections()
}

func (v *Vault) path(id string) string { return v.cfg.Prefix + "/" + id }

// call runs op with a valid token. When Vault answers 403 and the token can
// be renewed (token file, AppRole), it renews it once and runs op again.
func (v *Vault) call(ctx context.Context, op func(context.Context) error) error {
	used, err := v.currentToken(ctx)
	if err != nil {
		return err
	}
	err = describe(op(ctx))
	if !isForbidden(err) || v.auth == authToken {
		return err
	}
	if rerr := v.renewToken(ctx, used); rerr != nil {
		return fmt.Errorf("%w; renewing credentials after it: %w", err, rerr)
	}
	return describe(op(ctx))
}

// currentToken returns the token in use, obtaining one first if there is
// none yet or an AppRole token is near the end of its lease.
func (v *Vault) currentToken(ctx context.Context) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return "", errVaultClosed
	}
	if v.token != "" && (v.renewAt.IsZero() || v.now().Before(v.renewAt)) {
		return v.token, nil
	}
	if err := v.obtainLocked(ctx); err != nil {
		return "", err
	}
	return v.token, nil
}

// renewToken obtains a new token after Vault refused used, unless another
// request has already replaced it.
func (v *Vault) renewToken(ctx context.Context, used string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return errVaultClosed
	}
	if subtle.ConstantTimeCompare([]byte(v.token), []byte(used)) != 1 {
		return nil // another request already replaced it
	}
	return v.obtainLocked(ctx)
}

// obtainLocked reads the token file or logs in with AppRole. Called with
// v.mu held, so concurrent requests wait for one login.
func (v *Vault) obtainLocked(ctx context.Context) error {
	switch v.auth {
	case authTokenFile:
		b, err := os.ReadFile(v.cfg.TokenFile)
		if err != nil {
			return fmt.Errorf("reading token file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return fmt.Errorf("token file %s is empty", v.cfg.TokenFile)
		}
		v.token = tok
	case authAppRole:
		s, err := v.login.Logical().WriteWithContext(ctx, "auth/approle/login", map[string]any{
			"role_id":   v.cfg.RoleID,
			"secret_id": v.cfg.SecretID,
		})
		if err != nil {
			return fmt.Errorf("approle login: %w", describe(err))
		}
		if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
			return errors.New("approle login answered no token")
		}
		v.token = s.Auth.ClientToken
		v.renewAt = time.Time{}
		if lease := time.Duration(s.Auth.LeaseDuration) * time.Second; lease > 0 {
			// Log in again well before the lease ends, not after a 403.
			v.renewAt = v.now().Add(lease * 3 / 4)
		}
	default:
		return errors.New("the static token was refused")
	}
	v.client.SetToken(v.token)
	return nil
}

// vaultError shortens Vault's multi-line answer to one line; the original
// stays reachable through errors.As.
type vaultError struct {
	status int
	msg    string
	err    *api.ResponseError
}

func (e *vaultError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("vault answered %d", e.status)
	}
	return fmt.Sprintf("vault answered %d: %s", e.status, e.msg)
}

func (e *vaultError) Unwrap() error { return e.err }

// describe shortens the client's errors to one line: an *api.ResponseError
// becomes a vaultError, a transport failure its *url.Error (the client's
// own wrapping repeats the path). Other errors pass unchanged.
func describe(err error) error {
	if err == nil {
		return nil
	}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue
		}
		return err
	}
	msg := strings.Join(strings.Fields(strings.Join(re.Errors, "; ")), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return &vaultError{status: re.StatusCode, msg: msg, err: re}
}

func isForbidden(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusForbidden
}

// normalizeNumbers turns the json.Number values the Vault client decodes
// into strings, so lists like done_states [6, 7] read as "6", "7".
func normalizeNumbers(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, val := range data {
		switch x := val.(type) {
		case json.Number:
			out[k] = x.String()
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				if n, ok := e.(json.Number); ok {
					l[i] = n.String()
				} else {
					l[i] = e
				}
			}
			out[k] = l
		default:
			out[k] = val
		}
	}
	return out
}

var _ Fetcher = (*Vault)(nil)

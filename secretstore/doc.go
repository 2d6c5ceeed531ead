// Package secretstore decides where an integration's record comes from and
// how long a copy of it may be trusted. A Fetcher reads one record from its
// source (Vault KV v2, or the Caddyfile's static `integration` blocks); a
// Cache keeps records in memory so that Vault is never read per request, lets
// one fetch answer every concurrent lookup of an id, remembers unknown ids for
// a while so that floods of forged ids never reach Vault, and keeps serving a
// cached record while the source is down. Given a Lister, it also keeps the
// set of ids Vault lists, so that floods of distinct forged ids cost no
// Vault read beyond a small global budget (known_ids.go).
//
// It never verifies a delivery, never logs or formats a secret value (errors
// name ids and paths only), and never does network I/O in a constructor.
package secretstore

import (
	"errors"
	"fmt"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Lookup outcomes a handler maps to responses. An error from Cache.Lookup
// wraps exactly one of them (test with errors.Is). A Fetcher's error wraps
// ErrNotFound or ErrInvalid, or none: then its source is unreachable, and
// the Cache turns it into ErrUnavailable unless a cached record can serve.
var (
	// ErrNotFound means no such integration: the id is malformed or the
	// source holds no record for it (never written, or its latest version
	// deleted). The handler answers 401.
	ErrNotFound = errors.New("integration not found")
	// ErrInvalid means the stored record exists but cannot be used. It wraps
	// integrations.ErrInvalidRecord. The handler answers 401 and logs.
	ErrInvalid = fmt.Errorf("stored record is malformed: %w", integrations.ErrInvalidRecord)
	// ErrUnavailable means the source is unreachable and nothing usable is
	// cached. The handler answers 503 with Retry-After.
	ErrUnavailable = errors.New("secret store unavailable")
)

// invalidError marks a record the source holds but integrations rejects. Its
// message is the record's validation message, which never includes secrets.
type invalidError struct{ err error }

func (e *invalidError) Error() string        { return e.err.Error() }
func (e *invalidError) Unwrap() error        { return e.err }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// asInvalid wraps err, a validation error, so that errors.Is(err, ErrInvalid)
// and errors.Is(err, integrations.ErrInvalidRecord) both hold.
func asInvalid(err error) error {
	if errors.Is(err, ErrInvalid) {
		return err
	}
	return &invalidError{err: err}
}

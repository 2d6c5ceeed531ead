package fakevault

import (
	"net/http"
	"strings"
	"testing"
)

// operation is what a request does to a KV path, for the grant check.
type operation int

const (
	opRead operation = iota
	opWrite
	opDelete
	opList
)

// grant is what a token may do: fakevault's stand-in for Vault policies.
type grant struct {
	// under is the KV path prefix (below the mount) the grant covers, ""
	// for every path, else a prefix ending in "/".
	under                     string
	read, write, remove, list bool
}

var (
	// fullGrant is the root policy's reach: everything.
	fullGrant = grant{read: true, write: true, remove: true, list: true}
	// readOnlyGrant is a policy of path "secret/data/hookgate/*" with
	// capabilities ["read"]: no listing, writing or deleting.
	readOnlyGrant = grant{under: "hookgate/", read: true}
	// appRoleGrant is internal/testvault's AppRole policy: create, read,
	// update and list on secret/data/hookgate/* and secret/metadata/hookgate/*.
	appRoleGrant = grant{under: "hookgate/", read: true, write: true, list: true}
)

// allows reports whether g permits op on path (below the mount). A listing
// is checked against the folder with a trailing slash, as Vault checks it.
func (g grant) allows(op operation, path string) bool {
	var ok bool
	switch op {
	case opRead:
		ok = g.read
	case opWrite:
		ok = g.write
	case opDelete:
		ok = g.remove
	case opList:
		ok = g.list
	}
	return ok && strings.HasPrefix(path, g.under)
}

// token is an issued, unrevoked token.
type token struct {
	grant    grant
	accessor string
	policies []string
}

// newTokenLocked issues a token with g and returns its value. Called with
// s.mu held.
func (s *Server) newTokenLocked(g grant, policies ...string) (string, token) {
	value := "hvs.fake-" + randomHex(16)
	tok := token{grant: g, accessor: "fake-" + randomHex(9), policies: policies}
	s.tokens[value] = tok
	return value, tok
}

// CreateToken issues a token with full rights (like a child token of root
// with the root policy) and returns it.
func (s *Server) CreateToken(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	value, _ := s.newTokenLocked(fullGrant, "root")
	return value
}

// CreateReadOnlyToken issues a token that may read records under
// "hookgate/" but not list, write or delete them, like a Vault token whose
// only policy is path "secret/data/hookgate/*" { capabilities = ["read"] }.
// Listing with it answers 403 permission denied.
func (s *Server) CreateReadOnlyToken(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	value, _ := s.newTokenLocked(readOnlyGrant, "default", "read-only-hookgate")
	return value
}

// Revoke revokes token (root, created or AppRole-issued): later requests
// with it answer 403 like requests with a token Vault never issued. It
// fails the test if the token is unknown or already revoked. There is no
// token hierarchy: tokens created while using this one stay valid.
func (s *Server) Revoke(t testing.TB, token string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[token]; !ok {
		t.Fatal("fakevault: revoke: unknown or already revoked token")
	}
	delete(s.tokens, token)
}

// authenticate returns the grant of the request's X-Vault-Token, or answers
// 403 as Vault does and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (grant, bool) {
	value := r.Header.Get("X-Vault-Token")
	if value == "" {
		fail(w, http.StatusForbidden, msgNoToken)
		return grant{}, false
	}
	s.mu.Lock()
	tok, ok := s.tokens[value]
	s.mu.Unlock()
	if !ok {
		fail(w, http.StatusForbidden, msgBadToken)
		return grant{}, false
	}
	return tok.grant, true
}

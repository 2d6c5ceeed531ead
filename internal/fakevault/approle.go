package fakevault

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// LoginLease is the lease_duration an AppRole login reports (the role's
// token_ttl in internal/testvault). It is reported only: fakevault tokens
// never expire.
const LoginLease = time.Hour

// role is an AppRole role.
type role struct {
	name      string
	roleID    string
	secretIDs map[string]bool
}

// authInfo is the "auth" object of a login answer.
type authInfo struct {
	ClientToken    string            `json:"client_token"`
	Accessor       string            `json:"accessor"`
	Policies       []string          `json:"policies"`
	TokenPolicies  []string          `json:"token_policies"`
	Metadata       map[string]string `json:"metadata"`
	LeaseDuration  int               `json:"lease_duration"`
	Renewable      bool              `json:"renewable"`
	EntityID       string            `json:"entity_id"`
	TokenType      string            `json:"token_type"`
	Orphan         bool              `json:"orphan"`
	MFARequirement any               `json:"mfa_requirement"`
	NumUses        int               `json:"num_uses"`
}

// EnableAppRole enables AppRole login, creates role policyName (once per
// server: later calls keep its role id) whose tokens may create, read,
// update and list under "hookgate/" (internal/testvault's AppRole policy),
// and returns its role id and a new secret id. Earlier secret ids stay
// valid.
func (s *Server) EnableAppRole(t testing.TB, policyName string) (roleID, secretID string) {
	t.Helper()
	if policyName == "" {
		t.Fatal("fakevault: EnableAppRole: empty policy name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roles == nil {
		s.roles = map[string]*role{}
	}
	r := s.roles[policyName]
	if r == nil {
		r = &role{name: policyName, roleID: uuid(), secretIDs: map[string]bool{}}
		s.roles[policyName] = r
	}
	secretID = uuid()
	r.secretIDs[secretID] = true
	return r.roleID, secretID
}

// login answers PUT/POST /v1/auth/approle/login with a new token, or with
// the errors Vault gives for a missing or wrong role or secret id.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		unsupported(w, r)
		return
	}
	var body struct {
		RoleID   string `json:"role_id"`
		SecretID string `json:"secret_id"`
	}
	raw, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	_ = json.Unmarshal(raw, &body)

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.roles == nil:
		fail(w, http.StatusForbidden, msgNoToken) // Vault: no such auth mount
		return
	case body.RoleID == "":
		// Vault 1.21's answer to a login without role_id, verbatim.
		fail(w, http.StatusInternalServerError, "failed to determine alias name from login request")
		return
	case body.SecretID == "":
		fail(w, http.StatusBadRequest, "missing secret_id")
		return
	}
	for _, ro := range s.roles {
		if ro.roleID != body.RoleID || !ro.secretIDs[body.SecretID] {
			continue
		}
		policies := []string{"default", ro.name}
		value, tok := s.newTokenLocked(appRoleGrant, policies...)
		reply(w, http.StatusOK, nil, &authInfo{
			ClientToken:   value,
			Accessor:      tok.accessor,
			Policies:      policies,
			TokenPolicies: policies,
			Metadata:      map[string]string{"role_name": ro.name},
			LeaseDuration: int(LoginLease / time.Second),
			Renewable:     true,
			EntityID:      uuid(),
			TokenType:     "service",
			Orphan:        true,
		}, "")
		return
	}
	fail(w, http.StatusBadRequest, msgBadLogin)
}

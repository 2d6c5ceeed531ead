package fakevault

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// Error texts Vault 1.21 answers with, verbatim.
const (
	// msgNoToken: a request with no token at all.
	msgNoToken = "permission denied"
	// msgBadToken: a token Vault does not know (never issued or revoked).
	msgBadToken = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
	// msgDenied: a valid token whose policy does not allow the request.
	msgDenied = "1 error occurred:\n\t* permission denied\n\n"
	// msgBadLogin: an AppRole login with an unknown role or secret id.
	msgBadLogin = "invalid role or secret ID"
)

// envelope is the body of every successful Vault answer.
type envelope struct {
	RequestID     string    `json:"request_id"`
	LeaseID       string    `json:"lease_id"`
	Renewable     bool      `json:"renewable"`
	LeaseDuration int       `json:"lease_duration"`
	Data          any       `json:"data"`
	WrapInfo      any       `json:"wrap_info"`
	Warnings      []string  `json:"warnings"`
	Auth          *authInfo `json:"auth"`
	MountType     string    `json:"mount_type"`
}

// writeJSON answers status with body encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":["fakevault: encoding the answer failed"]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// reply answers status with an envelope around data (and auth, if any).
func reply(w http.ResponseWriter, status int, data any, auth *authInfo, mountType string) {
	writeJSON(w, status, envelope{RequestID: uuid(), Data: data, Auth: auth, MountType: mountType})
}

// fail answers status with Vault's error body {"errors":[msgs...]}. With no
// msgs it is {"errors":[]}, as Vault answers a read of a missing path.
func fail(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, map[string][]string{"errors": msgs})
}

// unsupported answers 501 for a request outside the subset fakevault speaks.
func unsupported(w http.ResponseWriter, r *http.Request) {
	fail(w, http.StatusNotImplemented, fmt.Sprintf("fakevault: %s %s is not implemented (this is not Vault)", r.Method, r.URL.Path))
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uuid returns a random id in the 8-4-4-4-12 form Vault uses for ids.
func uuid() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

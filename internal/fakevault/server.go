package fakevault

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Mount is the path of the KV v2 mount the server has, as in a Vault dev
// server. There is no other mount.
const Mount = "secret"

// Server is a running fake Vault: an httptest server on a loopback port
// with an in-memory KV v2 mount at secret/, token authentication and, once
// enabled, AppRole login. It is safe for concurrent use.
type Server struct {
	// Addr is the server's URL, http://127.0.0.1:<port>.
	Addr string
	// RootToken is a token with full rights (random per server).
	RootToken string

	http *httptest.Server

	mu     sync.Mutex
	kv     store
	tokens map[string]token // issued, unrevoked tokens by value
	roles  map[string]*role // AppRole roles by name; nil until EnableAppRole
}

// Start runs a fake Vault on a free loopback port and stops it when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{kv: store{}, tokens: map[string]token{}}
	s.RootToken = "root-" + randomHex(12)
	s.tokens[s.RootToken] = token{grant: fullGrant, accessor: "fake-" + randomHex(9), policies: []string{"root"}}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.Addr = s.http.URL
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the listener and waits for requests in flight, so later
// requests fail to connect, as with a stopped Vault. The helpers (Put,
// CreateToken, ...) keep working on the stored state. It is idempotent.
func (s *Server) Stop() { s.http.Close() }

// serve routes a request to the part of the API that answers it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		unsupported(w, r)
		return
	}
	if rest == "auth/approle/login" {
		s.login(w, r) // the one path that needs no token
		return
	}
	g, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if path, ok := strings.CutPrefix(rest, Mount+"/data/"); ok {
		s.serveData(w, r, g, path)
		return
	}
	if rest == Mount+"/metadata" || strings.HasPrefix(rest, Mount+"/metadata/") {
		s.serveMetadata(w, r, g, strings.TrimPrefix(strings.TrimPrefix(rest, Mount+"/metadata"), "/"))
		return
	}
	unsupported(w, r)
}

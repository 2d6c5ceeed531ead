package fakevendors

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Auth pins the credentials a fake accepts. The zero Auth accepts any
// non-empty api_token (and, for Basic, any user); a set one accepts
// exactly User and Token: Basic User:Token when User is set, else Bearer
// Token (the authtoken header Token for ServiceDesk Plus, which has no
// user).
type Auth struct {
	User, Token string
}

// allows reports whether the credentials a request carried pass a.
func (a Auth) allows(user, token string) bool {
	if a == (Auth{}) {
		return token != ""
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(a.User))
	k := subtle.ConstantTimeCompare([]byte(token), []byte(a.Token))
	return u&k == 1
}

// Answer is a canned answer that replaces a fake's real one.
type Answer struct {
	Status int
	Header map[string]string
	Body   string
}

// Call is one list or search call a fake answered.
type Call struct {
	// At is when it came.
	At time.Time
	// Label is the path segment in front of the API path ("" when none):
	// whose api_url asked.
	Label string
	// Token is the api_token it carried.
	Token string
	// Since is the query's lower bound as the poller sent it: the JQL
	// time, the sys_updated_on time, the epoch milliseconds; "" when the
	// query did not have one.
	Since string
	// Status is the HTTP status it was answered with.
	Status int
}

// Server is what the three fakes share: the HTTP server, the call log and
// the injected failures. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	auth Auth

	mu      sync.Mutex
	calls   []Call
	byToken map[string]Answer
	// script is answered in order, one entry per list call; then hold is
	// answered until Recover.
	script []Answer
	hold   *Answer
}

func newServer(t testing.TB, auth Auth, h http.HandlerFunc) *Server {
	s := &Server{auth: auth, byToken: map[string]Answer{}}
	s.Server = httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// FailToken makes every list call carrying token answer a, until Recover.
// It wins over FailNext.
func (s *Server) FailToken(token string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byToken[token] = a
}

// FailNext makes the next list calls (any api_token) answer script, one
// each, and every call after that hold (nil: the real answer), until
// Recover.
func (s *Server) FailNext(script []Answer, hold *Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script, s.hold = append([]Answer(nil), script...), hold
}

// Recover drops every injected failure.
func (s *Server) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byToken = map[string]Answer{}
	s.script, s.hold = nil, nil
}

// CallCount is how many list calls the fake answered.
func (s *Server) CallCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// CallsFrom returns the list calls from the i-th (0-based) on.
func (s *Server) CallsFrom(i int) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls[min(i, len(s.calls)):]...)
}

// CallsOf is how many list calls carried token.
func (s *Server) CallsOf(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Token == token {
			n++
		}
	}
	return n
}

// injected answers c with an injected failure, if one applies, and logs
// it; it reports whether it answered.
func (s *Server) injected(w http.ResponseWriter, c Call) bool {
	s.mu.Lock()
	a, ok := s.byToken[c.Token]
	switch {
	case ok:
	case len(s.script) > 0:
		a, ok = s.script[0], true
		s.script = s.script[1:]
	case s.hold != nil:
		a, ok = *s.hold, true
	}
	if ok {
		c.At, c.Status = time.Now(), a.Status
		s.calls = append(s.calls, c)
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, a.Body)
	return true
}

// logLocked logs c answered with status; s.mu is held.
func (s *Server) logLocked(c Call, status int) {
	c.At, c.Status = time.Now(), status
	s.calls = append(s.calls, c)
}

// log logs c answered with status.
func (s *Server) log(c Call, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logLocked(c, status)
}

// userToken reads Basic user:token or Bearer token.
func userToken(r *http.Request) (user, token string) {
	if u, p, ok := r.BasicAuth(); ok {
		return u, p
	}
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return "", b
	}
	return "", ""
}

// splitPath splits "/inst-a/rest/api/3/myself" into "inst-a" and
// "/rest/api/3/myself"; a path that starts with apiRoot has no label.
func splitPath(p, apiRoot string) (label, rest string) {
	if strings.HasPrefix(p, apiRoot) {
		return "", p
	}
	seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return seg, "/" + rest
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

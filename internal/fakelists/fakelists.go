// Package fakelists is a local HTTP server standing in for the address
// lists vendors publish, for tests: GitHub's meta API (GET /meta, whose
// `hooks` are GitHub's webhook addresses, beside its other ranges) and
// Atlassian's ip-ranges feed (GET /atlassian: items with cidr, product,
// region and direction), in the shapes the vendors document.
//
// No vendor can be reached from where hookgate's tests run. The server
// answers what the test last set, tags each answer with an ETag and
// answers 304 to a matching If-None-Match (as GitHub's API does), and can
// be made to fail or to answer raw bytes. It counts the requests per path.
package fakelists

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Item is one entry of Atlassian's feed.
type Item struct {
	CIDR      string
	Products  []string
	Direction []string // e.g. ["egress"]; none: the item has no direction field
}

// Server is the fake. Its zero lists are empty.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	hooks     []string
	atlassian []Item
	status    int               // non-zero: every answer is this status, with no body
	raw       map[string]string // path → body answered instead of the document
	fetches   map[string]int
	notMod    int
}

// New starts a fake, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{raw: map[string]string{}, fetches: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// MetaURL is where the fake serves GitHub's GET /meta.
func (s *Server) MetaURL() string { return s.URL + "/meta" }

// AtlassianURL is where the fake serves Atlassian's feed.
func (s *Server) AtlassianURL() string { return s.URL + "/atlassian" }

// SetHooks sets the `hooks` of GitHub's meta answer.
func (s *Server) SetHooks(cidrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = cidrs
}

// SetAtlassian sets the items of Atlassian's feed.
func (s *Server) SetAtlassian(items ...Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.atlassian = items
}

// Fail makes every answer status (0: answer normally again).
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Raw makes path answer body as it is ("": the document again).
func (s *Server) Raw(path, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body == "" {
		delete(s.raw, path)
		return
	}
	s.raw[path] = body
}

// Fetches is how many requests path got.
func (s *Server) Fetches(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[path]
}

// NotModified is how many 304s the fake answered.
func (s *Server) NotModified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notMod
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches[r.URL.Path]++
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	body, ok := s.raw[r.URL.Path]
	if !ok {
		var doc any
		switch r.URL.Path {
		case "/meta":
			doc = map[string]any{
				"verifiable_password_authentication": false,
				"hooks":                              s.hooks,
				"web":                                []string{"203.0.113.0/24"},
				"api":                                []string{"203.0.113.0/24"},
				"domains":                            map[string]any{"website": []string{"*.example.com"}},
			}
		case "/atlassian":
			items := make([]map[string]any, len(s.atlassian))
			for i, it := range s.atlassian {
				items[i] = map[string]any{"cidr": it.CIDR, "product": it.Products, "region": []string{"global"}}
				if it.Direction != nil {
					items[i]["direction"] = it.Direction
				}
			}
			doc = map[string]any{"creationDate": "2026-01-01T00:00:00.000000", "syncToken": 1, "items": items}
		default:
			http.NotFound(w, r)
			return
		}
		b, _ := json.Marshal(doc)
		body = string(b)
	}
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	if r.Header.Get("If-None-Match") == etag {
		s.notMod++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

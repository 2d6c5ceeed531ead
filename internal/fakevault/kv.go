package fakevault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// maxBody is Vault's default max_request_size.
const maxBody = 32 << 20

// Put writes data as a new version of path under the mount (e.g.
// "hookgate/integrations/demo"); the first write of a path is version 1.
// Like Vault, nil data makes a version without data, which reads as a
// secret with no data.
func (s *Server) Put(t testing.TB, path string, data map[string]any) {
	t.Helper()
	if !validPath(path) {
		t.Fatalf("fakevault: put: unsupported path %q", path)
	}
	b, err := json.Marshal(data) // nil: null
	if err != nil {
		t.Fatalf("fakevault: put %s: %v", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv.put(path, b, time.Now())
}

// Delete soft-deletes the newest version of path, as KV v2's delete does:
// reads of path then answer 404 (with the version's metadata, as Vault
// does) until a new version is written, and the key stays listed. It fails
// the test if nothing was ever written at path.
func (s *Server) Delete(t testing.TB, path string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.kv.softDelete(path, time.Now()) {
		t.Fatalf("fakevault: delete: nothing stored at %q", path)
	}
}

// serveData answers /v1/secret/data/<path>: read (GET), write (PUT, POST)
// and soft delete (DELETE) of the newest version.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request, g grant, path string) {
	if !validPath(path) || len(r.URL.Query()) > 0 { // no ?version=, ?list=
		unsupported(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.readData(w, g, path)
	case http.MethodPut, http.MethodPost:
		s.writeData(w, r, g, path)
	case http.MethodDelete:
		if !g.allows(opDelete, path) {
			fail(w, http.StatusForbidden, msgDenied)
			return
		}
		s.mu.Lock()
		s.kv.softDelete(path, time.Now())
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		unsupported(w, r)
	}
}

// readData answers the newest version of path.
func (s *Server) readData(w http.ResponseWriter, g grant, path string) {
	if !g.allows(opRead, path) {
		fail(w, http.StatusForbidden, msgDenied)
		return
	}
	s.mu.Lock()
	n, v, ok := s.kv.latest(path)
	s.mu.Unlock()
	switch {
	case !ok:
		fail(w, http.StatusNotFound)
	case !v.deleted.IsZero():
		// Vault answers 404 with the deleted version's metadata and null data.
		reply(w, http.StatusNotFound, map[string]any{"data": nil, "metadata": metadata(n, v)}, nil, "")
	default:
		reply(w, http.StatusOK, map[string]any{"data": v.data, "metadata": metadata(n, v)}, nil, "kv")
	}
}

// writeData stores the request's data as a new version of path, honouring
// options.cas. Like Vault, it stores "data": null as a version without data.
func (s *Server) writeData(w http.ResponseWriter, r *http.Request, g grant, path string) {
	if !g.allows(opWrite, path) {
		fail(w, http.StatusForbidden, msgDenied)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, "http: request body too large")
		return
	}
	var fields map[string]json.RawMessage
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &fields); err != nil {
			fail(w, http.StatusBadRequest, "error parsing JSON: failed to parse JSON input: "+err.Error())
			return
		}
	}
	data, ok := fields["data"]
	if !ok {
		fail(w, http.StatusBadRequest, "no data provided")
		return
	}
	if string(data) != "null" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			fail(w, http.StatusBadRequest, fmt.Sprintf("error converting input for field \"data\": '' expected a map, got '%s'", jsonKind(data)))
			return
		}
		data, _ = json.Marshal(obj) // compact, keys sorted
	}
	var options struct {
		CAS *int `json:"cas"`
	}
	_ = json.Unmarshal(fields["options"], &options)

	s.mu.Lock()
	defer s.mu.Unlock()
	if cas := options.CAS; cas != nil {
		if current, _, _ := s.kv.latest(path); *cas != current {
			fail(w, http.StatusBadRequest, "check-and-set parameter did not match the current version")
			return
		}
	}
	n, v := s.kv.put(path, data, time.Now())
	reply(w, http.StatusOK, metadata(n, v), nil, "kv")
}

// jsonKind names the kind of a JSON value as Vault's decoder does.
func jsonKind(raw json.RawMessage) string {
	var v any
	_ = json.Unmarshal(raw, &v)
	switch v.(type) {
	case string, float64:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "slice"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// serveMetadata answers listings of /v1/secret/metadata/<dir> (method LIST,
// or GET with ?list=true): the folder's direct children, 404 when it has
// none. Reading or changing metadata is not implemented.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request, g grant, dir string) {
	isList := r.Method == "LIST" || (r.Method == http.MethodGet && r.URL.Query().Get("list") == "true")
	dir = trimSlash(dir)
	if !isList || (dir != "" && !validPath(dir)) {
		unsupported(w, r)
		return
	}
	checked := ""
	if dir != "" {
		checked = dir + "/"
	}
	if !g.allows(opList, checked) {
		fail(w, http.StatusForbidden, msgDenied)
		return
	}
	s.mu.Lock()
	keys := s.kv.children(dir)
	s.mu.Unlock()
	if len(keys) == 0 {
		fail(w, http.StatusNotFound)
		return
	}
	reply(w, http.StatusOK, map[string]any{"keys": keys}, nil, "kv")
}

// trimSlash drops one trailing slash: Vault lists "a/b" and "a/b/" alike.
func trimSlash(p string) string {
	if len(p) > 0 && p[len(p)-1] == '/' {
		return p[:len(p)-1]
	}
	return p
}

package fakevault

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// kvVersion is one version of a KV v2 secret.
type kvVersion struct {
	data    json.RawMessage // the JSON object written, compacted, or null
	created time.Time
	deleted time.Time // zero unless soft-deleted
}

// store is the KV v2 mount: paths (below the mount, without "data/") to
// their versions, versions[i] being version i+1. It is not synchronised:
// Server.mu guards it.
type store map[string][]kvVersion

// put appends data as a new version of path and returns its number.
func (st store) put(path string, data json.RawMessage, now time.Time) (int, kvVersion) {
	v := kvVersion{data: data, created: now.UTC()}
	st[path] = append(st[path], v)
	return len(st[path]), v
}

// latest returns path's newest version and its number; ok is false when
// nothing was ever written there.
func (st store) latest(path string) (n int, v kvVersion, ok bool) {
	vs := st[path]
	if len(vs) == 0 {
		return 0, kvVersion{}, false
	}
	return len(vs), vs[len(vs)-1], true
}

// softDelete marks path's newest version deleted (once) and reports
// whether path holds anything.
func (st store) softDelete(path string, now time.Time) bool {
	vs := st[path]
	if len(vs) == 0 {
		return false
	}
	if last := &vs[len(vs)-1]; last.deleted.IsZero() {
		last.deleted = now.UTC()
	}
	return true
}

// children lists the direct children of folder dir ("" for the mount's
// root): keys as they are, sub-folders with a trailing slash, sorted and
// without duplicates. Soft-deleted secrets are listed, as Vault lists them
// (their metadata remains).
func (st store) children(dir string) []string {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	var keys []string
	for path := range st {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		keys = append(keys, rest)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// versionMetadata is the metadata of one version as Vault answers it.
type versionMetadata struct {
	CreatedTime    string            `json:"created_time"`
	CustomMetadata map[string]string `json:"custom_metadata"`
	DeletionTime   string            `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	Version        int               `json:"version"`
}

// metadata describes version n, v.
func metadata(n int, v kvVersion) versionMetadata {
	m := versionMetadata{CreatedTime: v.created.Format(time.RFC3339Nano), Version: n}
	if !v.deleted.IsZero() {
		m.DeletionTime = v.deleted.Format(time.RFC3339Nano)
	}
	return m
}

// validPath reports whether p is a path fakevault stores: non-empty, no
// leading or trailing slash, no empty, "." or ".." segment. (Vault
// redirects or rejects such paths; fakevault does not imitate how.)
func validPath(p string) bool {
	if p == "" {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// Package vendorcases loads the test cases each vendor carries as data in
// its own folder, so the cross-vendor test tables (caddymodule's handler
// tests, integration_test's end-to-end tests) are derived from the
// registered vendors instead of being written out by hand: a new vendor
// that ships without its cases fails those tests instead of going
// untested.
//
// A vendor's cases are vendors/<name>/testdata/case.json, a JSON list of
// Case (test data only: Go ignores testdata folders, so nothing of it is
// compiled into Caddy). The first case is the vendor's default scheme and
// names no scheme, like a record that pins none; every further case covers
// another of the vendor's schemes and names it:
//
//	[
//	  {"id": "gh-1", "secret": "gh-secret-1", "payload": "github/push.json",
//	   "header": {"X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3..."},
//	   "event": "push", "delivery": "72d3...", "body_mac": true},
//	  {"id": "gh-sha1", "scheme": "hmac-sha1", "secret": "gh-sha1-secret",
//	   "payload": "github/ping.json", "header": {"X-GitHub-Event": "ping"},
//	   "event": "ping", "body_mac": true}
//	]
//
// The payloads stay under testdata/payloads at the module root (shared with
// the corpus loader, internal/payloads); a case names one by its path
// there.
//
// Load reads the cases of every vendor in integrations.Vendors(), so the
// test binary must have imported the vendor packages (vendors/all). A
// registered vendor without a case file is an error naming it. A vendor
// registered only by a test file (caddymodule's tenth vendor, gitea) has
// no folder: the caller names it with Skip.
package vendorcases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Case is one delivery a vendor would send, and what hookgate must make
// of it.
type Case struct {
	// Vendor is the vendor whose folder holds the case (not in the file).
	Vendor integrations.Vendor `json:"-"`
	// ID is the integration id the case runs under, unique across vendors.
	ID string `json:"id"`
	// Scheme is the scheme the integration pins: empty in the vendor's
	// first case (the default scheme), set in every other.
	Scheme integrations.Scheme `json:"scheme,omitempty"`
	// Secret is the integration's secret, in the scheme's form (whsec_...
	// for signing).
	Secret string `json:"secret"`
	// Payload is the body's file, a slash path under testdata/payloads.
	Payload string `json:"payload"`
	// Header holds the identity headers the vendor sends besides the
	// credential (event name, delivery id).
	Header map[string]string `json:"header,omitempty"`
	// Event is the expected X-Hookgate-Event.
	Event string `json:"event,omitempty"`
	// Delivery is the expected X-Hookgate-Delivery; empty when the vendor
	// sends no delivery id.
	Delivery string `json:"delivery,omitempty"`
	// BodyMAC says the credential covers the body (a tampered body fails).
	BodyMAC bool `json:"body_mac,omitempty"`

	// Body is the payload file's content, read by Load.
	Body []byte `json:"-"`
}

// Default reports whether c is its vendor's default-scheme case.
func (c Case) Default() bool { return c.Scheme == "" }

// EffectiveScheme is the scheme c is verified with: its own, or the
// vendor's default.
func (c Case) EffectiveScheme() integrations.Scheme {
	if c.Scheme != "" {
		return c.Scheme
	}
	return c.Vendor.DefaultScheme()
}

// File is the path of v's case file relative to the module root.
func File(v integrations.Vendor) string {
	return filepath.Join("vendors", string(v), "testdata", "case.json")
}

// PayloadDir is the payloads folder relative to the module root.
var PayloadDir = filepath.Join("testdata", "payloads")

// Option changes what Load loads.
type Option func(*options)

type options struct{ skip []integrations.Vendor }

// Skip leaves out vendors registered only by a test file: they have no
// folder under vendors/ and so no case file. A skipped vendor that is not
// registered (yet: a test file's init may run after a package-level Load)
// is no error.
func Skip(vs ...integrations.Vendor) Option {
	return func(o *options) { o.skip = append(o.skip, vs...) }
}

// Load reads the cases of every registered vendor but the skipped ones:
// vendors in integrations.Vendors() order, each vendor's cases in its
// file's order (the default-scheme case first), with their bodies read.
// It fails if a vendor has no case file, a file does not parse or breaks
// the rules above, or a payload cannot be read: one error per such vendor,
// each naming the vendor and its file.
func Load(opts ...Option) ([]Case, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	root, err := Root()
	if err != nil {
		return nil, err
	}
	var all []Case
	var errs []error
	for _, v := range integrations.Vendors() {
		if slices.Contains(o.skip, v) {
			continue
		}
		cs, err := loadVendor(root, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, cs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return all, nil
}

// MustLoad is Load for a package-level table: it panics with Load's error.
func MustLoad(opts ...Option) []Case {
	cs, err := Load(opts...)
	if err != nil {
		panic(err)
	}
	return cs
}

// loadVendor reads and checks v's case file.
func loadVendor(root string, v integrations.Vendor) ([]Case, error) {
	file := File(v)
	b, err := os.ReadFile(filepath.Join(root, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vendorcases: vendor %q is registered but has no case file %s: every vendor under vendors/ carries its test cases there (see internal/vendorcases); a vendor registered only by a test file is left out with vendorcases.Skip", v, file)
	}
	if err != nil {
		return nil, fmt.Errorf("vendorcases: vendor %q: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cs []Case
	if err := dec.Decode(&cs); err != nil {
		return nil, fmt.Errorf("vendorcases: vendor %q: %s: %w", v, file, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("vendorcases: vendor %q: %s holds no case: the first must be the default scheme's", v, file)
	}
	for i := range cs {
		c := &cs[i]
		c.Vendor = v
		switch {
		case c.ID == "" || c.Payload == "":
			return nil, fmt.Errorf("vendorcases: vendor %q: %s: case %d has no id or no payload", v, file, i)
		case i == 0 && c.Scheme != "":
			return nil, fmt.Errorf("vendorcases: vendor %q: %s: the first case (%s) is the default scheme's and names none, it names %q", v, file, c.ID, c.Scheme)
		case i > 0 && c.Scheme == "":
			return nil, fmt.Errorf("vendorcases: vendor %q: %s: case %s names no scheme: only the first case is the default scheme's", v, file, c.ID)
		}
		c.Body, err = os.ReadFile(filepath.Join(root, PayloadDir, filepath.FromSlash(c.Payload)))
		if err != nil {
			return nil, fmt.Errorf("vendorcases: vendor %q: %s: case %s: payload: %w", v, file, c.ID, err)
		}
	}
	return cs, nil
}

// Root is the module root: the nearest folder holding a go.mod, from the
// working directory (a test's package folder) up.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("vendorcases: %w", err)
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vendorcases: no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

package integration_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
	"github.com/hookgate/caddy-hookgate/internal/vendorcases"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// vendorCase is one vendor as the tests drive it: its payload written from
// the documented shape, and the headers it sends besides the credential.
type vendorCase struct {
	vendor  integrations.Vendor
	payload string // file under testdata/payloads
	headers map[string]string
	event   string // expected X-Hookgate-Event
	deliv   string // expected X-Hookgate-Delivery
}

// vendorCases has one case per registered vendor, in integrations.Vendors()
// order: the default-scheme case each vendor carries in
// vendors/<v>/testdata/case.json (internal/vendorcases), the one
// caddymodule's handler tests run too. A vendor without a case file panics
// the test binary naming it.
var vendorCases = defaultCases(vendorcases.MustLoad())

// defaultCases is the default-scheme case of each vendor in cs.
func defaultCases(cs []vendorcases.Case) []vendorCase {
	var out []vendorCase
	for _, c := range cs {
		if c.Default() {
			out = append(out, vendorCase{vendor: c.Vendor, payload: c.Payload, headers: c.Header, event: c.Event, deliv: c.Delivery})
		}
	}
	return out
}

// caseFor is the vendor case of v.
func caseFor(t *testing.T, v integrations.Vendor) vendorCase {
	t.Helper()
	for _, vc := range vendorCases {
		if vc.vendor == v {
			return vc
		}
	}
	t.Fatalf("no vendor case for %s", v)
	return vendorCase{}
}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// secretFor is the test secret of an integration: distinctive, so the log
// scan can look for it, and in the vendor's expected form.
func secretFor(id string) string {
	if strings.HasSuffix(id, "gitlab-signing") {
		return "whsec_" + "c2VjcmV0LW9mLWdpdGxhYi1zaWduaW5nLWludGVncmF0aW9u"
	}
	return "s3cr3t-" + id + "-7f3a9c"
}

// signed builds a POST of body to url, credentialed as vendor would send it
// with secret under scheme.
func signed(t testing.TB, url string, v integrations.Vendor, s integrations.Scheme, secret string, body []byte, extra map[string]string) *http.Request {
	t.Helper()
	h, query, err := verifiers.Sign(v, s, []byte(secret), body, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	return req
}

func do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// backend is a local HTTP server standing in for an existing backend
// behind the gate; it records what it received.
type backend struct {
	*httptest.Server
	mu   sync.Mutex
	seen []received
}

type received struct {
	header http.Header
	body   []byte
	uri    string
}

func newBackend(t testing.TB) *backend { return newBackendOn(t, nil) }

// newBackendOn is newBackend on a given listener (nil: any free port).
func newBackendOn(t testing.TB, l net.Listener) *backend {
	b := &backend{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.seen = append(b.seen, received{r.Header.Clone(), body, r.RequestURI})
		b.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("backend ok"))
	}))
	if l != nil {
		b.Listener.Close()
		b.Listener = l
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func (b *backend) last(t testing.TB) received {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) == 0 {
		t.Fatal("backend saw no request")
	}
	return b.seen[len(b.seen)-1]
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

// putRecord writes an integration record into Vault.
func putRecord(t testing.TB, vault *testvault.Server, id string, data map[string]any) {
	t.Helper()
	vault.Put(t, "hookgate/integrations/"+id, data)
}

// gateCaddyfile is the Caddyfile the gate tests run: records from Vault,
// the receiver proxied to a backend, and Caddy's own log and a JSON access
// log written to files (filtered as Caddyfile.example does).
func gateCaddyfile(admin string, port int, vaultAddr, backendAddr, logDir string) string {
	return fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	log {
		output file %s/caddy.log
		format json
		level DEBUG
	}
	hookgate {
		max_age off # the fixtures are of many dates; max_age has its own tests (replay_test.go)
		vault {
			address   %s
			token     {env.VAULT_TOKEN}
			cache_ttl 1s
			stale_ttl 10m
			timeout   2s
		}
		max_body 64KiB
	}
}

:%d {
	log {
		output file %s/access.log
%s
	}
	route /webhooks/* {
		hookgate
		reverse_proxy %s
	}
	route /legacy/github {
		hookgate {
			vendor      github
			integration legacy-gh
		}
		reverse_proxy %s
	}
}
`, admin, logDir, vaultAddr, port, logDir, accessLogFilters, backendAddr, backendAddr)
}

// accessLogFilters is the format of a site's access log that README.md
// and Caddyfile.example give: no credential hookgate receives is written.
const accessLogFilters = `		format filter {
			wrap json
			fields {
				request>uri query {
					delete token
				}
				request>headers>X-Gitlab-Token delete
				request>headers>X-Api-Token delete
				request>headers>X-Bamboo-Token delete
			}
		}`

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// execRedisCLI runs redis-cli against addr.
func execRedisCLI(addr string, args ...string) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).Output()
	return string(out), err
}

// ownBody is body made a delivery of its own for deliveryID: trailing
// JSON whitespace spelling the id's hash, so the bytes (and the MAC)
// differ per delivery while every parser reads the same document. The
// same body under another delivery id would be a replay (body-MAC
// schemes), which is not what these tests send.
func ownBody(body []byte, deliveryID string) []byte {
	sum := sha256.Sum256([]byte(deliveryID))
	out := append(append([]byte(nil), body...), '\n')
	for _, b := range sum[:6] {
		for i := range 8 {
			if b&(1<<i) != 0 {
				out = append(out, '\t')
			} else {
				out = append(out, ' ')
			}
		}
	}
	return out
}

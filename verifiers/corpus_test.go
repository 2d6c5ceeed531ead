package verifiers_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// TestCorpusConformance signs every payload's exact file bytes for every
// scheme of its folder's vendor and checks that Verify accepts them, and
// that one flipped byte fails every body MAC.
func TestCorpusConformance(t *testing.T) {
	dir, fromEnv, err := payloads.Root()
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	seen := map[integrations.Vendor]bool{}
	err = filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() || !strings.HasSuffix(path, ".json") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		folder, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		v, ok := payloads.VendorOf(folder)
		if !ok {
			t.Logf("skipping %s: folder %q names no vendor", rel, folder)
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if len(body) == 0 {
			t.Errorf("%s: empty payload", rel)
			return nil
		}
		files++
		seen[v] = true
		for _, s := range schemesOf(v) {
			p := pair{v, s}
			d := signedDelivery(t, p, testSecret, body, testNow)
			if vd := verify(t, p, d, body, secrets(testSecret)); !vd.OK() {
				t.Errorf("%s %s: %+v", rel, p, vd)
			}
			var c verifiers.Check // streamed in odd chunks, as the handler reads
			c.Reset(p.v, p.s, d, secrets(testSecret))
			for i := 0; i < len(body); i += 1000 {
				c.Write(body[i:min(i+1000, len(body))])
			}
			if vd := c.Verdict(); !vd.OK() {
				t.Errorf("%s %s streamed: %+v", rel, p, vd)
			}
			if r, _ := verifiers.RuleOf(v, s); r.Kind.BodyMAC() {
				flipped := append([]byte(nil), body...)
				flipped[len(flipped)/2] ^= 0x01
				if vd := verify(t, p, d, flipped, secrets(testSecret)); vd.Outcome != verifiers.Invalid {
					t.Errorf("%s %s: one flipped byte gave %+v", rel, p, vd)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	if files == 0 {
		t.Fatalf("no payload files under %s", dir)
	}
	if shipped := shippedVendors(); !fromEnv && len(seen) != len(shipped) {
		t.Errorf("testdata/payloads covers %d of %d vendors", len(seen), len(shipped))
	}
	t.Logf("%d payload files under %s", files, dir)
}

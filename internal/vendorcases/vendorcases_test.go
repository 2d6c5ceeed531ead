package vendorcases_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/vendorcases"
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// testOnly is a vendor registered by this test file alone, as
// caddymodule's tenth vendor is: it has no folder and no case file.
const testOnly integrations.Vendor = "vendorcases-test"

func init() {
	integrations.Register(integrations.Spec{Vendor: testOnly, Schemes: []integrations.Scheme{integrations.SchemeHMAC}})
}

// webhookID is the Standard Webhooks message id the handler tests sign
// with; Identify reports it as the delivery of a signing case.
const webhookID = "msg_hg1"

func load(t *testing.T) []vendorcases.Case {
	t.Helper()
	cs, err := vendorcases.Load(vendorcases.Skip(testOnly))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestEveryVendorHasADefaultCase: every registered shipped vendor has
// cases, the first under its default scheme; the others cover other
// schemes it supports; ids are unique and every case has a secret.
func TestEveryVendorHasADefaultCase(t *testing.T) {
	cs := load(t)
	byVendor := map[integrations.Vendor][]vendorcases.Case{}
	ids := map[string]integrations.Vendor{}
	for _, c := range cs {
		byVendor[c.Vendor] = append(byVendor[c.Vendor], c)
		if v, dup := ids[c.ID]; dup {
			t.Errorf("case id %s is %s's and %s's", c.ID, v, c.Vendor)
		}
		ids[c.ID] = c.Vendor
		if c.Secret == "" {
			t.Errorf("%s: no secret", c.ID)
		}
	}
	for _, v := range integrations.Vendors() {
		if v == testOnly {
			continue
		}
		vcs := byVendor[v]
		if len(vcs) == 0 {
			t.Errorf("%s: no case", v)
			continue
		}
		def := vcs[0]
		if !def.Default() || def.EffectiveScheme() != v.DefaultScheme() || !v.Supports(def.EffectiveScheme()) {
			t.Errorf("%s: first case %s has scheme %q (effective %q), want the default %q", v, def.ID, def.Scheme, def.EffectiveScheme(), v.DefaultScheme())
		}
		for _, c := range vcs[1:] {
			if c.Default() || c.Scheme == v.DefaultScheme() || !v.Supports(c.Scheme) {
				t.Errorf("%s: case %s has scheme %q: want another of %v than the default", v, c.ID, c.Scheme, v.Schemes())
			}
		}
	}
	if _, ok := byVendor[testOnly]; ok {
		t.Errorf("skipped vendor %s has cases", testOnly)
	}
}

// TestEveryPayloadExists: each case's payload is a file under
// testdata/payloads, and Load read it.
func TestEveryPayloadExists(t *testing.T) {
	root, err := vendorcases.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range load(t) {
		p := filepath.Join(root, vendorcases.PayloadDir, filepath.FromSlash(c.Payload))
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: payload %s: not a file (%v)", c.ID, c.Payload, err)
			continue
		}
		if int64(len(c.Body)) != fi.Size() || len(c.Body) == 0 {
			t.Errorf("%s: body of %d bytes, file of %d", c.ID, len(c.Body), fi.Size())
		}
	}
}

// TestBodyMAC: body_mac says what the scheme's verification rule does.
func TestBodyMAC(t *testing.T) {
	for _, c := range load(t) {
		r, ok := verifiers.RuleOf(c.Vendor, c.EffectiveScheme())
		if !ok {
			t.Errorf("%s: no verification rule for %s %s", c.ID, c.Vendor, c.EffectiveScheme())
			continue
		}
		if r.Kind.BodyMAC() != c.BodyMAC {
			t.Errorf("%s: body_mac %v, but the %s rule's is %v", c.ID, c.BodyMAC, c.EffectiveScheme(), r.Kind.BodyMAC())
		}
	}
}

// TestIdentity: the expected event and delivery are what hookgate reads
// from the signed delivery (headers and body), the values the handler
// annotates.
func TestIdentity(t *testing.T) {
	for _, c := range load(t) {
		h := http.Header{}
		for k, v := range c.Header {
			h.Set(k, v)
		}
		signed, _, err := verifiers.Sign(c.Vendor, c.EffectiveScheme(), []byte(c.Secret), c.Body, time.Now(), webhookID)
		if err != nil {
			t.Errorf("%s: Sign: %v (is the secret in the scheme's form?)", c.ID, err)
			continue
		}
		for k, vs := range signed {
			h[k] = vs
		}
		got := events.Identify(c.Vendor, c.EffectiveScheme(), h, c.Body)
		if got.Event != c.Event || got.Delivery != c.Delivery {
			t.Errorf("%s: identified event %q delivery %q, the case expects %q %q", c.ID, got.Event, got.Delivery, c.Event, c.Delivery)
		}
	}
}

// TestMissingCaseFileFails: a registered vendor without a case file is an
// error naming it and the file, unless it is skipped.
func TestMissingCaseFileFails(t *testing.T) {
	_, err := vendorcases.Load()
	if err == nil {
		t.Fatalf("Load with %s registered and not skipped: no error", testOnly)
	}
	for _, want := range []string{string(testOnly), vendorcases.File(testOnly)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, err := vendorcases.Load(vendorcases.Skip(testOnly)); err != nil {
		t.Errorf("Load skipping %s: %v", testOnly, err)
	}
}

package integrations_test

import (
	_ "github.com/hookgate/caddy-hookgate/vendors/all"

	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/iplists"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

var uuidV4Form = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestNewSecretForms: every vendor and scheme gets a secret in the form
// it expects, fresh each time, and the verifier accepts what is signed
// with it.
func TestNewSecretForms(t *testing.T) {
	body := []byte(`{"zen":"x"}`)
	now := time.Now()
	for _, v := range integrations.Vendors() {
		if v == testVendor {
			continue // registry_test.go's vendor registers no verification rules
		}
		for _, s := range []integrations.Scheme{integrations.SchemeHMAC, integrations.SchemeHMACSHA1, integrations.SchemeToken,
			integrations.SchemeSigning, integrations.SchemeBearer, integrations.SchemeBasic} {
			if !v.Supports(s) {
				continue
			}
			a, err := integrations.NewSecret(v, s)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := integrations.NewSecret(v, s)
			if a == b {
				t.Fatalf("%s/%s: two secrets alike", v, s)
			}
			switch {
			case v == integrations.Bamboo:
				if !uuidV4Form.MatchString(a) {
					t.Errorf("bamboo secret %q is not a UUID v4", a)
				}
			case s == integrations.SchemeSigning:
				raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
				if !strings.HasPrefix(a, "whsec_") || err != nil || len(raw) != integrations.SecretBytes {
					t.Errorf("%s/%s secret %q is not whsec_ + base64 of 32 bytes", v, s, a)
				}
			default:
				raw, err := hex.DecodeString(a)
				if err != nil || len(raw) != integrations.SecretBytes {
					t.Errorf("%s/%s secret %q is not 64 hex digits", v, s, a)
				}
			}
			h, q, err := verifiers.Sign(v, s, []byte(a), body, now, "")
			if err != nil {
				t.Fatalf("%s/%s: signing with a generated secret: %v", v, s, err)
			}
			vd := verifiers.Verify(v, s, verifiers.Delivery{Header: h, RawQuery: q, Now: now}, body, verifiers.Secrets{Current: []byte(a)})
			if !vd.OK() {
				t.Errorf("%s/%s: generated secret does not verify: %s", v, s, vd.Reason)
			}
		}
	}
}

// TestRecordDataRoundTrip: Record.Data is what FromData reads back, minus
// defaults and an overlap that has ended.
func TestRecordDataRoundTrip(t *testing.T) {
	now := time.Now()
	rec := integrations.Record{
		ID: "demo", Vendor: integrations.Jira, Secret: "cur", PreviousSecret: "old",
		PreviousValidUntil: now.Add(time.Hour).Truncate(time.Second), Scheme: integrations.SchemeHMAC,
		Active: false, AutoCloseOnResolve: true, Branches: []string{"main"}, Scans: []string{"sast"},
		Pipeline: true, APIURL: "https://jira.example", APIUser: "bot", APIToken: "tok", Target: "x",
		DoneStates: []string{"Done"}, MaxAge: 48 * time.Hour, Tolerance: 10 * time.Minute,
	}
	allow, err := iplists.ParseAllow([]string{"192.0.2.0/24", "2001:db8::/32", "atlassian"})
	if err != nil {
		t.Fatal(err)
	}
	rec.AllowIPs = allow
	back, err := integrations.FromData("demo", rec.Data(now), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !back.PreviousValidUntil.Equal(rec.PreviousValidUntil) {
		t.Fatalf("previous_valid_until %v, want %v", back.PreviousValidUntil, rec.PreviousValidUntil)
	}
	back.PreviousValidUntil = rec.PreviousValidUntil
	a, _ := json.Marshal(back)
	b, _ := json.Marshal(rec)
	if string(a) != string(b) || !reflect.DeepEqual(back, rec) {
		t.Fatalf("round trip changed the record:\n got %s %+v\nwant %s %+v", a, back, b, rec)
	}
	rec.MaxAge = integrations.MaxAgeOff
	if back, err := integrations.FromData("demo", rec.Data(now), 0); err != nil || back.MaxAge != integrations.MaxAgeOff {
		t.Fatalf("max_age off round trip: %v %v", back.MaxAge, err)
	}
	d := rec.Data(now.Add(2 * time.Hour))
	if _, ok := d["previous_secret"]; ok {
		t.Fatal("an ended overlap was kept")
	}
}

// TestMergeSettings: PUT never writes secret fields and refuses unknown
// keys; null resets a setting.
func TestMergeSettings(t *testing.T) {
	cur := map[string]any{"vendor": "github", "secret": "s", "branches": []any{"main"}}
	for _, k := range []string{"secret", "previous_secret", "previous_valid_until", "branchs"} {
		if _, err := integrations.MergeSettings(cur, map[string]any{k: "x"}); err == nil {
			t.Errorf("%s accepted", k)
		}
	}
	got, err := integrations.MergeSettings(cur, map[string]any{"branches": nil, "target": "o/r"})
	if err != nil {
		t.Fatal(err)
	}
	if got["secret"] != "s" || got["target"] != "o/r" || got["branches"] != nil {
		t.Fatalf("merged %v", got)
	}
	if cur["target"] != nil {
		t.Fatal("merge changed its input")
	}
}

package vendorcases

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// TestLoadVendorRules: a case file that breaks the format is refused with
// an error naming the vendor and what is wrong.
func TestLoadVendorRules(t *testing.T) {
	const v integrations.Vendor = "acme"
	for name, tc := range map[string]struct{ file, want string }{
		"not json":         {`[{"id":`, "unexpected EOF"},
		"unknown field":    {`[{"id":"a-1","payload":"p.json","secrett":"x"}]`, `unknown field "secrett"`},
		"empty":            {`[]`, "holds no case"},
		"no id":            {`[{"payload":"p.json"}]`, "no id or no payload"},
		"no payload":       {`[{"id":"a-1"}]`, "no id or no payload"},
		"default scheme":   {`[{"id":"a-1","scheme":"hmac","payload":"p.json"}]`, "names none"},
		"variant unnamed":  {`[{"id":"a-1","payload":"p.json"},{"id":"a-2","payload":"p.json"}]`, "a-2 names no scheme"},
		"payload missing":  {`[{"id":"a-1","payload":"nope.json"}]`, "a-1: payload"},
		"payload is found": {`[{"id":"a-1","payload":"p.json"},{"id":"a-2","scheme":"token","payload":"p.json"}]`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, PayloadDir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, PayloadDir, "p.json"), []byte(`{}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, File(v))), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, File(v)), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			cs, err := loadVendor(root, v)
			if tc.want == "" {
				if err != nil || len(cs) != 2 || cs[1].Vendor != v || string(cs[1].Body) != `{}` {
					t.Fatalf("loadVendor: %v, %+v", err, cs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"acme"`) {
				t.Fatalf("error %v, want one naming acme and %q", err, tc.want)
			}
		})
	}
}

// TestRootFromASubfolder: Root walks up from a package folder to go.mod.
func TestRootFromASubfolder(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if rel, err := filepath.Rel(root, wd); err != nil || rel != filepath.Join("internal", "vendorcases") {
		t.Errorf("root %s is not two levels above %s", root, wd)
	}
}

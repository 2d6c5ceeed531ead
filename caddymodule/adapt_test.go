package caddymodule

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// The Caddyfiles whose whole JSON is pinned live in testdata/adapt as
// golden pairs (adapt_golden_test.go); the tests here check properties
// that hold whatever else the JSON says.

// adapt turns a Caddyfile into its JSON config, decoded.
func adapt(t *testing.T, caddyfile string) (raw []byte, cfg map[string]any) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("decoding adapted config: %v\n%s", err, out)
	}
	return out, cfg
}

func jsonAt(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: not an object: %v", k, v)
		}
		v, ok = m[k]
		if !ok {
			t.Fatalf("no key %q in %v", k, m)
		}
	}
	return v
}

func serverRoutes(t *testing.T, cfg map[string]any) []any {
	t.Helper()
	return jsonAt(t, cfg, "apps", "http", "servers", "srv0", "routes").([]any)
}

// handlerOrder flattens the server's routes (and subroutes) into the order
// their handlers run.
func handlerOrder(routes []any) []string {
	var out []string
	for _, r := range routes {
		for _, h := range r.(map[string]any)["handle"].([]any) {
			hm := h.(map[string]any)
			name := hm["handler"].(string)
			if name == "subroute" {
				out = append(out, handlerOrder(hm["routes"].([]any))...)
				continue
			}
			out = append(out, name)
		}
	}
	return out
}

// Outside a route the directive order applies: hookgate is registered
// before redir, so it runs before anything that rewrites, answers or
// proxies, whatever order the Caddyfile lists them in.
func TestAdaptDirectiveOrder(t *testing.T) {
	_, cfg := adapt(t, `:8080 {
	reverse_proxy /api/* 127.0.0.1:9100
	file_server
	respond /ping 200
	rewrite /old /new
	redir /moved /elsewhere
	hookgate
}
`)
	order := handlerOrder(serverRoutes(t, cfg))
	hg := slices.Index(order, "hookgate")
	if hg < 0 {
		t.Fatalf("no hookgate handler in %v", order)
	}
	for _, later := range []string{"reverse_proxy", "file_server", "static_response", "rewrite"} {
		i := slices.Index(order, later)
		if i < 0 {
			t.Fatalf("no %s handler in %v", later, order)
		}
		if i < hg {
			t.Errorf("%s runs before hookgate: %v", later, order)
		}
	}
	if order[0] != "hookgate" {
		t.Errorf("hookgate is not the first handler: %v", order)
	}
}

func TestAdaptErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"handler argument", ":8080 {\n\thookgate github\n}\n"},
		{"handler unknown subdirective", ":8080 {\n\thookgate {\n\t\tsecret x\n\t}\n}\n"},
		{"global unknown subdirective", "{\n\thookgate {\n\t\tnope 1\n\t}\n}\n:8080 {\n\thookgate\n}\n"},
		{"global vault without address", "{\n\thookgate {\n\t\tvault {\n\t\t\ttoken x\n\t\t}\n\t}\n}\n:8080 {\n\thookgate\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(tc.in), map[string]any{"filename": "Caddyfile"})
			if err == nil {
				t.Fatal("adapt succeeded, want an error")
			}
		})
	}
}

// assertJSON compares a decoded JSON value with JSON written in a test.
func assertJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		e, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, e)
	}
}

package caddymodule

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestHandlerUnmarshalCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Handler
	}{
		{"bare", `hookgate`, Handler{}},
		{"empty block", "hookgate {\n}", Handler{}},
		{"explicit", "hookgate {\n vendor github\n integration legacy-gh\n}", Handler{Vendor: "github", Integration: "legacy-gh"}},
		{"placeholders", "hookgate {\n vendor {http.vars.v}\n integration {http.vars.id}\n}", Handler{Vendor: "{http.vars.v}", Integration: "{http.vars.id}"}},
		{"keep_credentials", "hookgate {\n keep_credentials\n}", Handler{KeepCredentials: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if h.Vendor != tc.want.Vendor || h.Integration != tc.want.Integration || h.KeepCredentials != tc.want.KeepCredentials {
				t.Errorf("got %+v, want %+v", h, tc.want)
			}
		})
	}
}

func TestHandlerUnmarshalCaddyfileErrors(t *testing.T) {
	const arity = "wrong argument count"
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"args after hookgate", `hookgate github`, arity},
		{"two args after hookgate", `hookgate github legacy-gh`, arity},
		{"args before block", "hookgate github {\n}", arity},
		{"unknown subdirective", "hookgate {\n secret abc\n}", `unrecognized subdirective "secret"`},
		{"vendor without value", "hookgate {\n vendor\n}", arity},
		{"vendor with two values", "hookgate {\n vendor github gitlab\n}", arity},
		{"integration without value", "hookgate {\n integration\n}", arity},
		{"integration with two values", "hookgate {\n integration a b\n}", arity},
		{"keep_credentials with value", "hookgate {\n keep_credentials true\n}", arity},
		{"vendor with block", "hookgate {\n vendor github {\n }\n}", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in))
			if err == nil {
				t.Fatalf("no error; handler %+v", h)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestHandlerValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       Handler
		wantErr string
	}{
		{"path receiver", Handler{}, ""},
		{"explicit", Handler{Vendor: "github", Integration: "x"}, ""},
		{"placeholder vendor", Handler{Vendor: "{http.vars.v}", Integration: "x"}, ""},
		{"vendor alone", Handler{Vendor: "github"}, "together"},
		{"integration alone", Handler{Integration: "x"}, "together"},
		{"unknown vendor", Handler{Vendor: "githubb", Integration: "x"}, "unknown vendor"},
		{"vendor wrong case", Handler{Vendor: "GitHub", Integration: "x"}, "unknown vendor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.h.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

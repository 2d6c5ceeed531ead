package events

import (
	"testing"
	"unicode/utf8"
)

// TestRepoFromURL covers the SCM URL forms Jenkins and Bamboo send, and the
// escapes a signed body may still carry: what comes out is valid UTF-8 and
// never gains a path separator the vendor had escaped.
func TestRepoFromURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://github.com/acme/api.git", "acme/api"},
		{"git@github.com:acme/api.git", "acme/api"},
		{"https://bitbucket.example.com/scm/fin/api.git", "fin/api"},
		{"https://dev.azure.com/org/Proj/_git/api", "Proj/api"},
		{"https://dev.azure.com/org/My%20Project/_git/api", "My Project/api"},
		{"https://example.com/acme/caf%C3%A9", "acme/café"},
		// Not UTF-8 once decoded: the escaped form stays.
		{"ssh://git@bitbucket.example.com:7999/fin/%800000000", "fin/%800000000"},
		// An escaped separator is not a separator.
		{"https://github.com/acme%2Fevil/api", "acme%2Fevil/api"},
		// A decoded control byte would be invisible in a log line.
		{"https://github.com/acme/a%0Ab", "acme/a%0Ab"},
		{"not a url", "not a url"},
	} {
		got := RepoFromURL(tc.in)
		if got != tc.want {
			t.Errorf("RepoFromURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("RepoFromURL(%q) is not UTF-8", tc.in)
		}
	}
}

// TestCapStringRepairsUTF8 checks the last line of defence: a field that
// reached an event with bytes that are not UTF-8 leaves valid UTF-8.
func TestCapStringRepairsUTF8(t *testing.T) {
	for _, in := range []string{"fin/\x80", "\xff\xfe", "ok\xc3"} {
		got := capString(in, MaxFieldLen)
		if !utf8.ValidString(got) {
			t.Errorf("capString(%q) = %q: not UTF-8", in, got)
		}
	}
	if got := capString("é\x80", 2); got != "é" {
		t.Errorf("capString cut = %q, want %q", got, "é")
	}
}

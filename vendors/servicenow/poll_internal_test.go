package servicenow

import "testing"

// The table read is the record's target when it is a table name, else
// incident: a target is never spliced into the API path unchecked.
func TestTableOf(t *testing.T) {
	for in, want := range map[string]string{
		"": "incident", "incident": "incident", "sn_si_incident": "sn_si_incident",
		"../sys_user": "incident", "Incident": "incident", "change_request?x=1": "incident",
	} {
		if got := tableOf(in); got != want {
			t.Errorf("tableOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// A comments value is named by a short digest, not kept; blank is none.
func TestCommentDigest(t *testing.T) {
	if d := commentDigest("  \n"); d != "" {
		t.Errorf("blank comments digest %q", d)
	}
	a, b := commentDigest("Patched; please retest."), commentDigest(" Patched; please retest.\n")
	if a == "" || a != b || len(a) != 16 {
		t.Errorf("digests %q %q: want one 16-hex-digit name for the trimmed text", a, b)
	}
	if commentDigest("other") == a {
		t.Error("different comments, same digest")
	}
}

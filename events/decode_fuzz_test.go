package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeProbe has every kind of field the normalizers decode into.
type decodeProbe struct {
	Ref     string          `json:"ref"`
	Deleted bool            `json:"deleted"`
	Number  int             `json:"number"`
	Raw     json.RawMessage `json:"raw"`
	Repo    struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Changes []struct {
		Ref  string `json:"ref"`
		Hash string `json:"hash"`
	} `json:"changes"`
	Labels map[string]string `json:"labels"`
	Ptr    *struct {
		ID int64 `json:"id"`
	} `json:"ptr"`
}

// FuzzDecodeMatchesStdlib: the fast decoder the normalizers use must
// accept and reject exactly what encoding/json does, and decode the same
// values, for every body the input guard (CheckJSON) lets through.
func FuzzDecodeMatchesStdlib(f *testing.F) {
	for _, s := range []string{
		`{"ref":"refs/heads/main","deleted":false,"number":3,"raw":1700000000,"repository":{"full_name":"a/b"}}`,
		`{"changes":[{"ref":"x","hash":"y"}],"labels":{"a":"b"},"ptr":{"id":9}}`,
		`{"number":1e3}`, `{"number":"3"}`, `{"REF":"case"}`, `{"ref":"a","ref":"b"}`,
		`{"ref":"\u00e9\ud800"}`, `{"raw":}`, `[1,2]`, `{"ptr":null,"labels":null}`, `{"number":99999999999999999999}`,
		`{"ref":"a"} trailing`, ` {"ref":"a"} `, `{"deleted":"true"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if CheckJSON(body) != nil {
			return
		}
		var std, fast decodeProbe
		stdErr := json.Unmarshal(body, &std)
		fastErr := Decode(body, &fast)
		if (stdErr == nil) != (fastErr == nil) {
			t.Fatalf("encoding/json err=%v, decode err=%v for %q", stdErr, fastErr, body)
		}
		if stdErr == nil && !reflect.DeepEqual(std, fast) {
			t.Fatalf("values differ for %q:\nstd  %+v\nfast %+v", body, std, fast)
		}
	})
}

// checkJSONReference is the straightforward byte-at-a-time guard that
// CheckJSON must agree with.
func checkJSONReference(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// FuzzCheckJSONMatchesReference: the fast input guard accepts exactly what
// the byte-at-a-time reference accepts.
func FuzzCheckJSONMatchesReference(f *testing.F) {
	for _, s := range []string{`{"a":"b\"{{{"}`, `{"a":"\\\\"}`, `"\\\"[[[`, `[[[[`, `{"x":"unterminated`, `"\\\\\\\"{"`, "{\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Repeat("[", MaxDepth+1)))
	f.Add([]byte(strings.Repeat("[", MaxDepth) + `"` + strings.Repeat("[", 10) + `"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := CheckJSON(b) == nil, checkJSONReference(b); got != want {
			t.Fatalf("CheckJSON accepts=%v, reference accepts=%v for %q", got, want, b)
		}
	})
}

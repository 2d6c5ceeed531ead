package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkJSONReference is what CheckJSON must decide, from the standard
// library: decided is false for a body that is UTF-8 but not JSON, which
// CheckJSON may pass (the decoder refuses it) or refuse. Of JSON it
// refuses exactly what nests deeper than MaxDepth or has an object with
// two keys that are one name, or differ only in case.
func checkJSONReference(b []byte) (accept, decided bool) {
	if len(b) == 0 || !utf8.Valid(b) {
		return false, true
	}
	if !json.Valid(b) {
		return false, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(depth int) bool
	walk = func(depth int) bool {
		tok, _ := dec.Token()
		d, ok := tok.(json.Delim)
		if !ok {
			return true
		}
		if depth+1 > MaxDepth {
			return false
		}
		var names []string
		for dec.More() {
			if d == '{' {
				tok, _ := dec.Token()
				name := tok.(string)
				for _, o := range names {
					if strings.EqualFold(o, name) {
						return false
					}
				}
				names = append(names, name)
			}
			if !walk(depth + 1) {
				return false
			}
		}
		_, _ = dec.Token()
		return true
	}
	return walk(0), true
}

// FuzzCheckJSONMatchesReference: the input guard decides as the reference
// does wherever the reference decides, never passes an empty or invalid
// UTF-8 body, and refuses only with ErrMalformed.
func FuzzCheckJSONMatchesReference(f *testing.F) {
	for _, s := range []string{`{"a":"b\"{{{"}`, `{"a":"\\\\"}`, `"\\\"[[[`, `[[[[`, `{"x":"unterminated`, `"\\\\\\\"{"`, "{\"\xff\"}",
		`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"r\u0065f":1,"ref":2}`, `{"x":[{"k":1},{"k":2,"K":3}]}`, `{"a":{"b":1},"b":{"a":1}}`,
		`{"\u212Aey":1,"key":2}`, `{"a\ud800":1,"a\udbff":2}`, `payload=%7B%22a%22%3A1%7D`, `{"a":1,"a":2`, `{"a":1,"a":2,}`,
		`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"K3":3}`,
		` { "a" : 1 , "b" : [ 1 , { "c" : 2 , "C" : 3 } ] } `, `{"longer than eight bytes":1,"LONGER THAN EIGHT BYTES":2}`} {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Repeat("[", MaxDepth+1)))
	f.Add([]byte(strings.Repeat("[", MaxDepth) + `"` + strings.Repeat("[", 10) + `"`))
	f.Add([]byte(strings.Repeat("[", MaxDepth) + `"` + strings.Repeat("[", 10) + `"` + strings.Repeat("]", MaxDepth)))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckJSON(b)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		want, decided := checkJSONReference(b)
		if decided && (err == nil) != want {
			t.Fatalf("CheckJSON err=%v, reference accepts=%v for %q", err, want, b)
		}
	})
}

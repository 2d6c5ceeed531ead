package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// strictProbe has every kind of field the normalizers decode into: nested
// objects, arrays of objects, strings, booleans, numbers, a FlexString, a
// RawMessage, a map, a pointer, and a camelCase name.
type strictProbe struct {
	Ref     string          `json:"ref"`
	Deleted bool            `json:"deleted"`
	Number  int             `json:"number"`
	Kind    string          `json:"eventType"`
	ID      FlexString      `json:"id"`
	Raw     json.RawMessage `json:"raw"`
	Repo    struct {
		FullName string `json:"full_name"`
		Owner    struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
	Changes []probeChange     `json:"changes"`
	Labels  map[string]string `json:"labels"`
	Ptr     *probeID          `json:"ptr"`
}

type probeChange struct {
	Ref  string `json:"ref"`
	Hash string `json:"hash"`
}

type probeID struct {
	ID int64 `json:"id"`
}

// FuzzDecodeStrict: CheckJSON then Decode, as every normalizer reads a
// body, accept exactly what a strict reference decoder written with the
// standard library accepts (no key twice in an object, not even in
// another case or with other escapes; names matched exactly; a lone
// surrogate escape read as U+FFFD, as encoding/json reads it), and decode
// the same values.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"ref":"refs/heads/main","deleted":false,"number":3,"eventType":"git.push","id":7,"raw":{"a":[1,"x"]},"repository":{"full_name":"a/b","owner":{"login":"o"}}}`,
		`{"changes":[{"ref":"x","hash":"y"},{"ref":"z"}],"labels":{"a":"b","A":"c"},"ptr":{"id":9}}`,
		`{"ref":"refs/heads/main","REF":"refs/heads/evil"}`, `{"REF":"refs/heads/evil"}`, `{"ref":"a","ref":"b"}`,
		`{"r\u0065f":"a","ref":"b"}`, `{"repository":{"full_name":"a","FULL_NAME":"b"}}`, `{"eventtype":"x"}`,
		`{"x":{"k":1,"k":2}}`, `{"changes":[{"hash":"a"},{"hash":"b","Hash":"c"}]}`, `{"raw":{"a":1,"a":2}}`,
		`{"id":{"a":1,"a":2}}`, `{"\u212Aey":1,"key":2}`, `{"\u017F":1,"s":2}`, `{"a\ud800":1,"a\udbff":2}`,
		`{"ref":"\ud800"}`, `{"x":"\udc00"}`, `{"ref":"\ud83d\ude00"}`, `{"id":"INC\ud800"}`, `{"labels":{"a":"\udfff"}}`, `{"raw":null}`, `{"labels":{"a":null}}`,
		`{"number":1e3}`, `{"number":"3"}`, `{"id":true}`, `{"id":-0.5e1}`, `[1,2]`, ` {"ref":"a"} `, `{"ref":"a"} x`,
		"{\"ref\":\"\xff\"}", `{"ref":"a",}`, `{"changes":[]}`, `{"changes":null,"ptr":null,"labels":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wantOK := strictReference(body)
		var got strictProbe
		err := CheckJSON(body)
		if err == nil {
			err = Decode(body, &got)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		if (err == nil) != wantOK {
			t.Fatalf("CheckJSON+Decode err=%v, reference accepts=%v, for %q", err, wantOK, body)
		}
		if wantOK && !reflect.DeepEqual(got, want) {
			t.Fatalf("values differ for %q:\nreference %+v\ndecode    %+v", body, want, got)
		}
	})
}

// refNode is one JSON value as the reference parsed it.
type refNode struct {
	kind  byte   // '{', '[', '"', '0' (a number), 'b' (a boolean), 'n' (null)
	str   string // a string's value, a number's spelling
	truth bool
	names []string   // an object's member names, in order
	elems []*refNode // an object's member values, an array's elements
	raw   []byte     // the value as it is in the input
}

var errRefRefused = errors.New("refused")

// refParser reads values with encoding/json's Decoder.Token, refusing
// what hookgate's strict reading refuses beyond it.
type refParser struct {
	in  []byte
	dec *json.Decoder
}

// strictReference decodes body as hookgate must, into a strictProbe: ok
// is false where hookgate must answer ErrMalformed.
func strictReference(body []byte) (v strictProbe, ok bool) {
	if len(body) == 0 || !utf8.Valid(body) {
		return v, false
	}
	p := &refParser{in: body, dec: json.NewDecoder(bytes.NewReader(body))}
	p.dec.UseNumber()
	root, err := p.value(0)
	if err != nil {
		return v, false
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return v, false // more than one value
	}
	return v, refProbe(root, &v)
}

func (p *refParser) value(depth int) (*refNode, error) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &refNode{}
	switch t := tok.(type) {
	case json.Delim:
		if depth+1 > MaxDepth {
			return nil, errRefRefused
		}
		n.kind = byte(t)
		for p.dec.More() {
			if t == '{' {
				nt, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				name := nt.(string)
				for _, o := range n.names {
					// One member twice, spelled alike or differing only in
					// case (as encoding/json v1 matches names).
					if strings.EqualFold(o, name) {
						return nil, errRefRefused
					}
				}
				n.names = append(n.names, name)
			}
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, e)
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
	case string:
		n.kind, n.str = '"', t
	case json.Number:
		n.kind, n.str = '0', string(t)
	case bool:
		n.kind, n.truth = 'b', t
	case nil:
		n.kind = 'n'
	}
	n.raw = bytes.TrimLeft(p.in[start:p.dec.InputOffset()], " \t\r\n,:")
	return n, nil
}

// The reference's assignments: a value of the wrong kind refuses the
// body, null leaves the field as it is, and names match exactly.

func refProbe(n *refNode, v *strictProbe) bool {
	return refObject(n, func(name string, e *refNode) bool {
		switch name {
		case "ref":
			return refString(e, &v.Ref)
		case "deleted":
			return refBool(e, &v.Deleted)
		case "number":
			var i int64
			ok := refInt(e, &i)
			v.Number = int(i)
			return ok
		case "eventType":
			return refString(e, &v.Kind)
		case "id":
			return refFlex(e, &v.ID)
		case "raw":
			v.Raw = append(json.RawMessage(nil), e.raw...)
			return true
		case "repository":
			return refObject(e, func(name string, e *refNode) bool {
				switch name {
				case "full_name":
					return refString(e, &v.Repo.FullName)
				case "owner":
					return refObject(e, func(name string, e *refNode) bool {
						if name == "login" {
							return refString(e, &v.Repo.Owner.Login)
						}
						return true
					})
				}
				return true
			})
		case "changes":
			switch e.kind {
			case 'n':
				v.Changes = nil
				return true
			case '[':
			default:
				return false
			}
			v.Changes = make([]probeChange, 0, len(e.elems))
			for _, el := range e.elems {
				var c probeChange
				ok := refObject(el, func(name string, e *refNode) bool {
					switch name {
					case "ref":
						return refString(e, &c.Ref)
					case "hash":
						return refString(e, &c.Hash)
					}
					return true
				})
				if !ok {
					return false
				}
				v.Changes = append(v.Changes, c)
			}
			return true
		case "labels":
			switch e.kind {
			case 'n':
				v.Labels = nil
				return true
			case '{':
			default:
				return false
			}
			if v.Labels == nil {
				v.Labels = map[string]string{}
			}
			for i, name := range e.names {
				var s string
				if !refString(e.elems[i], &s) {
					return false
				}
				v.Labels[name] = s
			}
			return true
		case "ptr":
			switch e.kind {
			case 'n':
				v.Ptr = nil
				return true
			case '{':
			default:
				return false
			}
			v.Ptr = &probeID{}
			return refObject(e, func(name string, e *refNode) bool {
				if name == "id" {
					return refInt(e, &v.Ptr.ID)
				}
				return true
			})
		}
		return true // an unknown name is skipped
	})
}

func refObject(n *refNode, member func(name string, e *refNode) bool) bool {
	switch n.kind {
	case 'n':
		return true
	case '{':
	default:
		return false
	}
	for i, name := range n.names {
		if !member(name, n.elems[i]) {
			return false
		}
	}
	return true
}

func refString(n *refNode, s *string) bool {
	switch n.kind {
	case 'n':
		return true
	case '"':
		*s = n.str
		return true
	}
	return false
}

func refBool(n *refNode, b *bool) bool {
	switch n.kind {
	case 'n':
		return true
	case 'b':
		*b = n.truth
		return true
	}
	return false
}

func refInt(n *refNode, i *int64) bool {
	switch n.kind {
	case 'n':
		return true
	case '0':
		v, err := strconv.ParseInt(n.str, 10, 64)
		*i = v
		return err == nil
	}
	return false
}

func refFlex(n *refNode, f *FlexString) bool {
	switch n.kind {
	case 'n':
		return true
	case '"', '0':
		*f = FlexString(n.str)
		return true
	}
	return false
}

package events

import (
	"encoding/json"
	"reflect"
	"testing"
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
// values, for every body the input guard (checkJSON) lets through.
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
		if checkJSON(body) != nil {
			return
		}
		var std, fast decodeProbe
		stdErr := json.Unmarshal(body, &std)
		fastErr := decode(body, &fast)
		if (stdErr == nil) != (fastErr == nil) {
			t.Fatalf("encoding/json err=%v, decode err=%v for %q", stdErr, fastErr, body)
		}
		if stdErr == nil && !reflect.DeepEqual(std, fast) {
			t.Fatalf("values differ for %q:\nstd  %+v\nfast %+v", body, std, fast)
		}
	})
}

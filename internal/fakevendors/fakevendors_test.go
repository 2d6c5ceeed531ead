package fakevendors

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func get(t *testing.T, u string, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Pinned credentials, unknown tables, unsupported queries, labels and
// injected failures answer as documented, and every list call is logged.
func TestServiceNowAnswers(t *testing.T) {
	f := NewServiceNow(t, ServiceNowOptions{Auth: Auth{User: "u", Token: "tok"}})
	q := url.Values{}
	q.Set("sysparm_query", "sys_updated_on>=2025-03-04 14:00:00^ORDERBYsys_updated_on^ORDERBYsys_id")
	q.Set("sysparm_limit", "100")
	q.Set("sysparm_offset", "0")
	q.Set("sysparm_fields", "number,state,sys_updated_on")
	q.Set("sysparm_display_value", "false")
	basic := map[string]string{"Authorization": "Basic dTp0b2s="} // u:tok
	list := f.URL + "/inst-a/api/now/table/incident?" + q.Encode()
	if s := get(t, list, nil); s != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", s)
	}
	if s := get(t, list, map[string]string{"Authorization": "Bearer tok"}); s != http.StatusUnauthorized {
		t.Errorf("bearer when Basic u:tok is pinned: %d", s)
	}
	if s := get(t, f.URL+"/api/now/table/sys_user?"+q.Encode(), basic); s != http.StatusBadRequest {
		t.Errorf("another table: %d", s)
	}
	if s := get(t, f.URL+"/api/now/table/incident?sysparm_limit=1", basic); s != http.StatusBadRequest {
		t.Errorf("unsupported query: %d", s)
	}
	f.FailNext([]Answer{{Status: 500}}, &Answer{Status: 429})
	f.FailToken("other", Answer{Status: 503})
	for i, want := range []int{500, 429, 429} {
		if s := get(t, list, basic); s != want {
			t.Errorf("call %d after FailNext: %d, want %d", i, s, want)
		}
	}
	f.Recover()
	f.Set(ServiceNowRecord{Number: "INC1", State: "6", Updated: time.Date(2025, 3, 4, 14, 5, 11, 900, time.UTC)})
	if s := get(t, list, basic); s != http.StatusOK {
		t.Errorf("after Recover: %d", s)
	}
	calls := f.CallsFrom(0)
	if len(calls) != 5 || f.CallCount() != 5 || f.CallsOf("tok") != 5 {
		t.Fatalf("calls %+v", calls)
	}
	if c := calls[4]; c.Label != "inst-a" || c.Since != "2025-03-04 14:00:00" || c.Status != 200 || c.At.IsZero() {
		t.Errorf("last call %+v", c)
	}
	if c := calls[0]; c.Label != "" || c.Status != http.StatusBadRequest {
		t.Errorf("first call %+v", c)
	}
}

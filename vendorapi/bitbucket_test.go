package vendorapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// fakeBitbucketAPI speaks Bitbucket Cloud's repository webhooks REST API 2.0
// for acme/pay: paginated list (`values`, `next`), create, update by
// {uuid}. No vendor SaaS is reachable from these machines.
type fakeBitbucketAPI struct {
	fakeBase
	hooks  []map[string]any
	nextID int
	auth   string // the Authorization value expected
}

func newFakeBitbucketAPI(t *testing.T, auth string) *fakeBitbucketAPI {
	f := &fakeBitbucketAPI{auth: auth}
	f.hooks = append(f.hooks, map[string]any{"uuid": "{aaaaaaaa-0000-4000-8000-000000000001}", "url": foreignURL, "secret": foreignToken, "active": true, "events": []any{"repo:push"}})
	f.start(t, f.serve)
	return f
}

func (f *fakeBitbucketAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != f.auth {
		writeJSON(w, 401, map[string]any{"type": "error", "error": map[string]string{"message": "Unauthorized"}})
		return
	}
	const base = "/2.0/repositories/acme/pay/hooks"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		writeJSON(w, 404, map[string]any{"type": "error", "error": map[string]string{"message": "Repository not found"}})
		return
	}
	view := func(h map[string]any) map[string]any {
		out := map[string]any{"type": "webhook_subscription", "subject_type": "repository", "secret_set": h["secret"] != nil}
		for k, v := range h {
			if k != "secret" {
				out[k] = v
			}
		}
		return out
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		out := map[string]any{"pagelen": 1, "page": page, "size": len(f.hooks), "values": []any{}}
		if page <= len(f.hooks) {
			out["values"] = []any{view(f.hooks[page-1])}
		}
		if page < len(f.hooks) {
			out["next"] = fmt.Sprintf("%s%s?page=%d", f.srv.URL, base, page+1)
		}
		writeJSON(w, 200, out)
	case rest == "" && r.Method == http.MethodPost, r.Method == http.MethodPut:
		in := map[string]any{}
		if !f.decode(r, &in) {
			return
		}
		if in["description"] != "hookgate" || in["url"] != testReceiver || in["active"] != true || in["secret"] != testSecret {
			f.t.Errorf("%s: %v", r.Method, in)
		}
		if fmt.Sprint(in["events"]) != "[repo:push pullrequest:created pullrequest:updated]" {
			f.t.Errorf("%s: events %v", r.Method, in["events"])
		}
		if r.Method == http.MethodPost {
			f.nextID++
			in["uuid"] = fmt.Sprintf("{bbbbbbbb-0000-4000-8000-%012d}", f.nextID)
			f.hooks = append(f.hooks, in)
			writeJSON(w, 201, view(in))
			return
		}
		uid := strings.TrimPrefix(rest, "/")
		for i, h := range f.hooks {
			if h["uuid"] == uid {
				in["uuid"] = uid
				f.hooks[i] = in
				writeJSON(w, 200, view(in))
				return
			}
		}
		writeJSON(w, 404, map[string]any{"type": "error", "error": map[string]string{"message": "Webhook not found"}})
	default:
		writeJSON(w, 404, map[string]any{"type": "error", "error": map[string]string{"message": "Not found"}})
	}
}

func (f *fakeBitbucketAPI) ours() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hooks {
		if h["url"] == testReceiver {
			n++
		}
	}
	return n
}

func (f *fakeBitbucketAPI) foreignIntact() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[0]
	return h["uuid"] == "{aaaaaaaa-0000-4000-8000-000000000001}" && h["url"] == foreignURL && h["secret"] == foreignToken
}

func bitbucketRecord(apiURL, user string) integrations.Record {
	return integrations.Record{ID: "pay-bb", Vendor: integrations.Bitbucket, Secret: testSecret, APIURL: apiURL, APIUser: user, APIToken: testAPIToken, Target: "acme/pay", Active: true}
}

func TestBitbucketRegisterCreatesThenUpdates_LocalFakeNoVendorSaaS(t *testing.T) {
	for name, user := range map[string]string{"app password": "ci-bot", "access token": ""} {
		t.Run(name, func(t *testing.T) {
			auth := "Bearer " + testAPIToken
			if user != "" {
				auth = basicAuth(user, testAPIToken)
			}
			f := newFakeBitbucketAPI(t, auth)
			rec := bitbucketRecord(f.srv.URL, user)
			res := lifecycle(t, rec, Hook{URL: testReceiver, Secret: testSecret}, f.ours, f.foreignIntact)
			if res.HookID != "{bbbbbbbb-0000-4000-8000-000000000001}" {
				t.Errorf("hook id %q", res.HookID)
			}
			if !slices.Contains(f.seen(), "PUT /2.0/repositories/acme/pay/hooks/%7Bbbbbbbbb-0000-4000-8000-000000000001%7D") {
				t.Errorf("requests %q", f.seen())
			}
			sent, err := SendTest(context.Background(), nil, rec, res.HookID)
			if sent || err != nil {
				t.Errorf("SendTest = %v, %v; Bitbucket has no test API", sent, err)
			}
		})
	}
}

func TestBitbucketErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeBitbucketAPI(t, basicAuth("ci-bot", testAPIToken))
	rec := bitbucketRecord(f.srv.URL, "ci-bot")
	bad := rec
	bad.APIUser = "someone"
	_, err := Register(context.Background(), nil, bad, Hook{URL: testReceiver, Secret: testSecret})
	expectAPIError(t, err, 401)

	f.setFail(400, `{"type":"error","error":{"message":"Bad request","fields":{"secret":["`+testSecret+` is too short"]}}}`)
	_, err = Register(context.Background(), nil, rec, Hook{URL: testReceiver, Secret: testSecret})
	expectAPIError(t, err, 400)
}

package bitbucket

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// fakeBitbucketAPI speaks Bitbucket Cloud's repository webhooks REST API 2.0
// for acme/pay: paginated list (`values`, `next`), create, update by
// {uuid}. No vendor SaaS is reachable from these machines.
type fakeBitbucketAPI struct {
	fakeapi.Server
	hooks  []map[string]any
	nextID int
	auth   string // the Authorization value expected
}

func newFakeBitbucketAPI(t *testing.T, auth string) *fakeBitbucketAPI {
	f := &fakeBitbucketAPI{auth: auth}
	f.hooks = append(f.hooks, map[string]any{"uuid": "{aaaaaaaa-0000-4000-8000-000000000001}", "url": fakeapi.ForeignURL, "secret": fakeapi.ForeignToken, "active": true, "events": []any{"repo:push"}})
	f.Start(t, f.serve)
	return f
}

func (f *fakeBitbucketAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != f.auth {
		fakeapi.WriteJSON(w, 401, map[string]any{"type": "error", "error": map[string]string{"message": "Unauthorized"}})
		return
	}
	const base = "/2.0/repositories/acme/pay/hooks"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		fakeapi.WriteJSON(w, 404, map[string]any{"type": "error", "error": map[string]string{"message": "Repository not found"}})
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
			out["next"] = fmt.Sprintf("%s%s?page=%d", f.URL(), base, page+1)
		}
		fakeapi.WriteJSON(w, 200, out)
	case rest == "" && r.Method == http.MethodPost, r.Method == http.MethodPut:
		in := map[string]any{}
		if !f.Decode(r, &in) {
			return
		}
		if in["description"] != "hookgate" || in["url"] != fakeapi.Receiver || in["active"] != true || in["secret"] != fakeapi.Secret {
			f.T.Errorf("%s: %v", r.Method, in)
		}
		if fmt.Sprint(in["events"]) != "[repo:push pullrequest:created pullrequest:updated]" {
			f.T.Errorf("%s: events %v", r.Method, in["events"])
		}
		if r.Method == http.MethodPost {
			f.nextID++
			in["uuid"] = fmt.Sprintf("{bbbbbbbb-0000-4000-8000-%012d}", f.nextID)
			f.hooks = append(f.hooks, in)
			fakeapi.WriteJSON(w, 201, view(in))
			return
		}
		uid := strings.TrimPrefix(rest, "/")
		for i, h := range f.hooks {
			if h["uuid"] == uid {
				in["uuid"] = uid
				f.hooks[i] = in
				fakeapi.WriteJSON(w, 200, view(in))
				return
			}
		}
		fakeapi.WriteJSON(w, 404, map[string]any{"type": "error", "error": map[string]string{"message": "Webhook not found"}})
	default:
		fakeapi.WriteJSON(w, 404, map[string]any{"type": "error", "error": map[string]string{"message": "Not found"}})
	}
}

func (f *fakeBitbucketAPI) ours() int {
	f.Lock()
	defer f.Unlock()
	n := 0
	for _, h := range f.hooks {
		if h["url"] == fakeapi.Receiver {
			n++
		}
	}
	return n
}

func (f *fakeBitbucketAPI) foreignIntact() bool {
	f.Lock()
	defer f.Unlock()
	h := f.hooks[0]
	return h["uuid"] == "{aaaaaaaa-0000-4000-8000-000000000001}" && h["url"] == fakeapi.ForeignURL && h["secret"] == fakeapi.ForeignToken
}

func bitbucketRecord(apiURL, user string) integrations.Record {
	return integrations.Record{ID: "pay-bb", Vendor: integrations.Bitbucket, Secret: fakeapi.Secret, APIURL: apiURL, APIUser: user, APIToken: fakeapi.APIToken, Target: "acme/pay", Active: true}
}

func TestBitbucketRegisterCreatesThenUpdates_LocalFakeNoVendorSaaS(t *testing.T) {
	for name, user := range map[string]string{"app password": "ci-bot", "access token": ""} {
		t.Run(name, func(t *testing.T) {
			auth := "Bearer " + fakeapi.APIToken
			if user != "" {
				auth = fakeapi.BasicAuth(user, fakeapi.APIToken)
			}
			f := newFakeBitbucketAPI(t, auth)
			rec := bitbucketRecord(f.URL(), user)
			res := fakeapi.Lifecycle(t, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret}, f.ours, f.foreignIntact)
			if res.HookID != "{bbbbbbbb-0000-4000-8000-000000000001}" {
				t.Errorf("hook id %q", res.HookID)
			}
			if !slices.Contains(f.Seen(), "PUT /2.0/repositories/acme/pay/hooks/%7Bbbbbbbbb-0000-4000-8000-000000000001%7D") {
				t.Errorf("requests %q", f.Seen())
			}
			sent, err := vendorapi.SendTest(context.Background(), nil, rec, res.HookID)
			if sent.Sent || err != nil {
				t.Errorf("SendTest = %+v, %v; Bitbucket has no test API", sent, err)
			}
		})
	}
}

func TestBitbucketErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeBitbucketAPI(t, fakeapi.BasicAuth("ci-bot", fakeapi.APIToken))
	rec := bitbucketRecord(f.URL(), "ci-bot")
	bad := rec
	bad.APIUser = "someone"
	_, err := vendorapi.Register(context.Background(), nil, bad, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 401)

	f.SetFail(400, `{"type":"error","error":{"message":"Bad request","fields":{"secret":["`+fakeapi.Secret+` is too short"]}}}`)
	_, err = vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 400)
}

func TestHasAPI(t *testing.T) {
	if !vendorapi.HasAPI(Vendor) {
		t.Errorf("HasAPI(%s) = false", Vendor)
	}
}

func TestDefaultAPIURL(t *testing.T) {
	fakeapi.WantFirstRequest(t, integrations.Record{ID: "x", Vendor: Vendor, APIToken: fakeapi.APIToken, Target: "acme/pay", Secret: fakeapi.Secret}, "https://api.bitbucket.org/2.0/repositories/acme/pay/hooks")
}

// TestBasicIsSetUpByHand: Bitbucket Cloud's hook API knows no Basic auth
// (a Data Center webhook setting), so register under scheme basic answers
// the steps and calls nothing.
func TestBasicIsSetUpByHand(t *testing.T) {
	fakeapi.ManualOnly(t, Vendor, fakeapi.ManualCase{Scheme: integrations.SchemeBasic, Want: []string{"Bitbucket Data Center", "Authentication: Basic", "Authorization: Basic"}})
}

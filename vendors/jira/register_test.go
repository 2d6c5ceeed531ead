package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// fakeJiraAPI speaks Jira's admin webhooks REST API
// (/rest/webhooks/1.0/webhook): list, create, update by the id at the end of
// `self`. No vendor SaaS is reachable from these machines.
type fakeJiraAPI struct {
	fakeapi.Server
	hooks  []map[string]any
	nextID int
}

const jiraReceiver = "https://hooks.example.com/webhooks/jira/sec-jira"

func newFakeJiraAPI(t *testing.T) *fakeJiraAPI {
	f := &fakeJiraAPI{nextID: 10}
	f.Start(t, f.serve)
	f.hooks = append(f.hooks, map[string]any{"name": "other team", "url": fakeapi.ForeignURL + "?token=" + fakeapi.ForeignToken, "events": []any{"jira:issue_created"},
		"self": f.URL() + "/rest/webhooks/1.0/webhook/1", "enabled": true, "excludeBody": false})
	return f
}

func (f *fakeJiraAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != fakeapi.BasicAuth("admin@example.com", fakeapi.APIToken) {
		w.WriteHeader(401) // Jira Cloud answers a bad API token with an empty 401
		return
	}
	const base = "/rest/webhooks/1.0/webhook"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		fakeapi.WriteJSON(w, 404, map[string]any{"errorMessages": []string{"not found"}})
		return
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		fakeapi.WriteJSON(w, 200, f.hooks)
	case rest == "" && r.Method == http.MethodPost, r.Method == http.MethodPut:
		in := map[string]any{}
		if !f.Decode(r, &in) {
			return
		}
		if in["name"] != "hookgate" || in["excludeBody"] != false || fmt.Sprint(in["events"]) != "[jira:issue_updated comment_created comment_updated]" {
			f.T.Errorf("%s: %v", r.Method, in)
		}
		if r.Method == http.MethodPost {
			f.nextID++
			in["self"] = fmt.Sprintf("%s%s/%d", f.URL(), base, f.nextID)
			in["enabled"] = true
			f.hooks = append(f.hooks, in)
			fakeapi.WriteJSON(w, 201, in)
			return
		}
		for i, h := range f.hooks {
			if strings.HasSuffix(h["self"].(string), base+rest) {
				in["self"] = h["self"]
				f.hooks[i] = in
				fakeapi.WriteJSON(w, 200, in)
				return
			}
		}
		fakeapi.WriteJSON(w, 404, map[string]any{"errorMessages": []string{"webhook not found"}})
	default:
		fakeapi.WriteJSON(w, 404, map[string]any{"errorMessages": []string{"not found"}})
	}
}

// mine returns hookgate's hooks, recognised by URL without the token.
func (f *fakeJiraAPI) mine() []map[string]any {
	f.Lock()
	defer f.Unlock()
	var out []map[string]any
	for _, h := range f.hooks {
		if u, _ := url.Parse(h["url"].(string)); u != nil && u.Scheme+"://"+u.Host+u.Path == jiraReceiver {
			out = append(out, h)
		}
	}
	return out
}

func (f *fakeJiraAPI) foreignIntact() bool {
	f.Lock()
	defer f.Unlock()
	h := f.hooks[0]
	return h["url"] == fakeapi.ForeignURL+"?token="+fakeapi.ForeignToken && h["name"] == "other team"
}

func jiraRecord(apiURL string) integrations.Record {
	return integrations.Record{ID: "sec-jira", Vendor: integrations.Jira, Secret: fakeapi.Secret, APIURL: apiURL, APIUser: "admin@example.com", APIToken: fakeapi.APIToken, Active: true}
}

func TestJiraRegisterTokenScheme_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeJiraAPI(t)
	rec := jiraRecord(f.URL())
	hook := vendorapi.Hook{URL: jiraReceiver, Secret: fakeapi.Secret}
	res := fakeapi.Lifecycle(t, rec, hook, func() int { return len(f.mine()) }, f.foreignIntact)
	if res.HookID != "11" || !slices.Contains(f.Seen(), "PUT /rest/webhooks/1.0/webhook/11") {
		t.Errorf("result %+v, requests %q", res, f.Seen())
	}
	h := f.mine()[0]
	if h["url"] != jiraReceiver+"?token="+fakeapi.Secret || h["secret"] != nil {
		t.Errorf("token scheme: hook %v", h)
	}

	// After a rotation the stored URL carries the old token: still found.
	rotated := rec
	rotated.Secret, rotated.PreviousSecret = "new-secret-after-rotation", fakeapi.Secret
	res, err := vendorapi.Register(context.Background(), nil, rotated, vendorapi.Hook{URL: jiraReceiver, Secret: rotated.Secret})
	if err != nil || res.Created || res.HookID != "11" {
		t.Fatalf("after rotation: %+v, %v", res, err)
	}
	if mine := f.mine(); len(mine) != 1 || mine[0]["url"] != jiraReceiver+"?token=new-secret-after-rotation" {
		t.Errorf("after rotation: %v", mine)
	}
	if sent, err := vendorapi.SendTest(context.Background(), nil, rec, "11"); sent.Sent || err != nil {
		t.Errorf("SendTest = %+v, %v; Jira has no test API", sent, err)
	}
}

func TestJiraRegisterHMACScheme_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeJiraAPI(t)
	rec := jiraRecord(f.URL())
	rec.Scheme = integrations.SchemeHMAC
	fakeapi.Lifecycle(t, rec, vendorapi.Hook{URL: jiraReceiver, Secret: fakeapi.Secret}, func() int { return len(f.mine()) }, f.foreignIntact)
	h := f.mine()[0]
	if h["url"] != jiraReceiver || h["secret"] != fakeapi.Secret {
		t.Errorf("hmac scheme: hook %v", h)
	}
}

func TestJiraErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeJiraAPI(t)
	rec := jiraRecord(f.URL())
	bad := rec
	bad.APIToken = "expired"
	_, err := vendorapi.Register(context.Background(), nil, bad, vendorapi.Hook{URL: jiraReceiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 401)

	// Jira echoing the URL with a token it holds from before (not this
	// record's secret) is scrubbed too.
	f.SetFail(422, `{"errorMessages":["Webhook with url `+jiraReceiver+`?token=some-older-token already exists"]}`)
	_, err = vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: jiraReceiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 422)
	if strings.Contains(err.Error(), "some-older-token") {
		t.Errorf("error echoes a token: %v", err)
	}

	noSite := rec
	noSite.APIURL = ""
	if _, err := vendorapi.Register(context.Background(), nil, noSite, vendorapi.Hook{URL: jiraReceiver, Secret: fakeapi.Secret}); !errors.Is(err, vendorapi.ErrMissingSetting) || !strings.Contains(err.Error(), "api_url") {
		t.Errorf("no api_url: %v", err)
	}
}

func TestHasAPI(t *testing.T) {
	if !vendorapi.HasAPI(Vendor) {
		t.Errorf("HasAPI(%s) = false", Vendor)
	}
}

// TestBasicIsSetUpByHand: Jira's webhook API cannot set Basic auth (Data
// Center), so register under scheme basic answers the steps and calls
// nothing.
func TestBasicIsSetUpByHand(t *testing.T) {
	fakeapi.ManualOnly(t, Vendor, fakeapi.ManualCase{Scheme: integrations.SchemeBasic, Want: []string{"Authentication: Basic", "Authorization: Basic"}})
}

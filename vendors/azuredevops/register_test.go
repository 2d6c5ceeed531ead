package azuredevops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// fakeAzureDevOpsAPI speaks Azure DevOps' service hooks REST API 7.1 for the
// organization at its root: project lookup by name, subscriptions list,
// create and replace. Like the real service it masks secret consumer inputs
// when listing. No vendor SaaS is reachable from these machines.
type fakeAzureDevOpsAPI struct {
	fakeapi.Server
	subs   []map[string]any
	nextID int
}

const (
	azureProjectGUID = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c"
	azureReceiver    = "https://hooks.example.com/webhooks/ci/azuredevops/pay-ado"
)

func newFakeAzureDevOpsAPI(t *testing.T) *fakeAzureDevOpsAPI {
	f := &fakeAzureDevOpsAPI{}
	f.subs = append(f.subs, map[string]any{"id": "00000000-0000-0000-0000-0000000000aa", "publisherId": "tfs", "eventType": "git.push",
		"consumerId": "webHooks", "consumerActionId": "httpRequest",
		"publisherInputs": map[string]any{"projectId": azureProjectGUID},
		"consumerInputs":  map[string]any{"url": fakeapi.ForeignURL, "httpHeaders": "Authorization:Bearer " + fakeapi.ForeignToken}})
	f.Start(t, f.serve)
	return f
}

func (f *fakeAzureDevOpsAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != fakeapi.BasicAuth("", fakeapi.APIToken) {
		w.WriteHeader(401)
		return
	}
	if r.URL.Query().Get("api-version") != "7.1" {
		fakeapi.WriteJSON(w, 400, map[string]string{"message": "The requested REST API version is not supported"})
		return
	}
	const subs = "/_apis/hooks/subscriptions"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_apis/projects/payments":
		fakeapi.WriteJSON(w, 200, map[string]any{"id": azureProjectGUID, "name": "payments", "state": "wellFormed"})
	case r.Method == http.MethodGet && r.URL.Path == subs:
		var out []map[string]any
		for _, s := range f.subs {
			c := map[string]any{}
			for k, v := range s["consumerInputs"].(map[string]any) {
				if k == "httpHeaders" || k == "basicAuthPassword" {
					v = "********"
				}
				c[k] = v
			}
			m := map[string]any{}
			for k, v := range s {
				m[k] = v
			}
			m["consumerInputs"] = c
			out = append(out, m)
		}
		fakeapi.WriteJSON(w, 200, map[string]any{"count": len(out), "value": out})
	case r.Method == http.MethodPost && r.URL.Path == subs, r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, subs+"/"):
		in := map[string]any{}
		if !f.Decode(r, &in) {
			return
		}
		pi, _ := in["publisherInputs"].(map[string]any)
		ci, _ := in["consumerInputs"].(map[string]any)
		if in["publisherId"] != "tfs" || in["consumerId"] != "webHooks" || in["consumerActionId"] != "httpRequest" ||
			pi["projectId"] != azureProjectGUID || ci["url"] != azureReceiver {
			f.T.Errorf("%s: %v", r.Method, in)
		}
		if in["eventType"] != "git.push" && in["eventType"] != "git.pullrequest.created" {
			f.T.Errorf("%s: eventType %v", r.Method, in["eventType"])
		}
		if ci["httpHeaders"] != "Authorization:Bearer "+fakeapi.Secret && !(ci["basicAuthUsername"] == "hookgate" && ci["basicAuthPassword"] == fakeapi.Secret) {
			f.T.Errorf("%s: consumer inputs carry no credential: %v", r.Method, ci)
		}
		if r.Method == http.MethodPost {
			f.nextID++
			in["id"] = fmt.Sprintf("11111111-0000-0000-0000-%012d", f.nextID)
			f.subs = append(f.subs, in)
			fakeapi.WriteJSON(w, 200, in)
			return
		}
		id := strings.TrimPrefix(r.URL.Path, subs+"/")
		for i, s := range f.subs {
			if s["id"] == id {
				in["id"] = id
				f.subs[i] = in
				fakeapi.WriteJSON(w, 200, in)
				return
			}
		}
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "subscription not found"})
	default:
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "not found"})
	}
}

// ours counts subscriptions to the receiver, failing when one event type
// has more than one.
func (f *fakeAzureDevOpsAPI) ours() int {
	f.Lock()
	defer f.Unlock()
	per := map[any]int{}
	for _, s := range f.subs {
		if s["consumerInputs"].(map[string]any)["url"] == azureReceiver {
			per[s["eventType"]]++
		}
	}
	if len(per) != 2 || per["git.push"] != 1 || per["git.pullrequest.created"] != 1 {
		return -1
	}
	return 1
}

func (f *fakeAzureDevOpsAPI) foreignIntact() bool {
	f.Lock()
	defer f.Unlock()
	s := f.subs[0]
	return s["id"] == "00000000-0000-0000-0000-0000000000aa" && s["consumerInputs"].(map[string]any)["httpHeaders"] == "Authorization:Bearer "+fakeapi.ForeignToken
}

func azureRecord(apiURL, target string) integrations.Record {
	return integrations.Record{ID: "pay-ado", Vendor: integrations.AzureDevOps, Secret: fakeapi.Secret, APIURL: apiURL, APIToken: fakeapi.APIToken, Target: target, Active: true}
}

func TestAzureDevOpsRegisterOneSubscriptionPerEventType_LocalFakeNoVendorSaaS(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		scheme       integrations.Scheme
	}{
		{"bearer by project name", "payments", ""},
		{"basic by project id", azureProjectGUID, integrations.SchemeBasic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAzureDevOpsAPI(t)
			rec := azureRecord(f.URL(), tc.target)
			rec.Scheme = tc.scheme
			res := fakeapi.Lifecycle(t, rec, vendorapi.Hook{URL: azureReceiver, Secret: fakeapi.Secret}, f.ours, f.foreignIntact)
			if res.HookID != "11111111-0000-0000-0000-000000000001,11111111-0000-0000-0000-000000000002" {
				t.Errorf("hook id %q", res.HookID)
			}
			for _, s := range f.subs[1:] {
				ci := s["consumerInputs"].(map[string]any)
				if tc.scheme == integrations.SchemeBasic && (ci["basicAuthPassword"] != fakeapi.Secret || ci["httpHeaders"] != nil) {
					t.Errorf("basic: %v", ci)
				}
				if tc.scheme == "" && ci["httpHeaders"] != "Authorization:Bearer "+fakeapi.Secret {
					t.Errorf("bearer: %v", ci)
				}
			}
			if sent, err := vendorapi.SendTest(context.Background(), nil, rec, res.HookID); sent.Sent || err != nil {
				t.Errorf("SendTest = %+v, %v", sent, err)
			}
		})
	}
}

func TestAzureDevOpsErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeAzureDevOpsAPI(t)
	rec := azureRecord(f.URL(), azureProjectGUID)
	bad := rec
	bad.APIToken = "revoked-pat"
	_, err := vendorapi.Register(context.Background(), nil, bad, vendorapi.Hook{URL: azureReceiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 401)

	f.SetFail(203, `<html><head><title>Azure DevOps Services | Sign In</title></head></html>`)
	_, err = vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: azureReceiver, Secret: fakeapi.Secret})
	if err == nil || !strings.Contains(err.Error(), "203") || !strings.Contains(err.Error(), "api_token") {
		t.Errorf("203 sign-in page: %v", err)
	}

	f.SetFail(400, `{"message":"VS1060001: consumer input httpHeaders 'Authorization:Bearer `+fakeapi.Secret+`' is invalid"}`)
	_, err = vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: azureReceiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 400)
}

func TestHasAPI(t *testing.T) {
	if !vendorapi.HasAPI(Vendor) {
		t.Errorf("HasAPI(%s) = false", Vendor)
	}
}

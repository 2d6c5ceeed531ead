package vendorapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// fakeGitLabAPI speaks GitLab's project hooks REST API v4 for the project
// acme/pay, addressed by its URL-encoded path (acme%2Fpay): list with
// X-Next-Page pagination, create, update, test. With signing, it takes
// `signing_token` and reports `signing_token_present`, as GitLab does where
// the webhook_signing_token feature is enabled. No vendor SaaS is reachable
// from these machines.
type fakeGitLabAPI struct {
	fakeBase
	hooks   []map[string]any
	nextID  int
	signing bool
	tests   []string
	// sentSigning records whether any request carried signing_token.
	sentSigning bool
}

func newFakeGitLabAPI(t *testing.T) *fakeGitLabAPI {
	f := &fakeGitLabAPI{nextID: 40}
	f.hooks = append(f.hooks, map[string]any{"id": 3, "url": foreignURL, "token": foreignToken, "push_events": true})
	f.start(t, f.serve)
	return f
}

func (f *fakeGitLabAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("PRIVATE-TOKEN") != testAPIToken {
		writeJSON(w, 401, map[string]string{"message": "401 Unauthorized"})
		return
	}
	const base = "/api/v4/projects/acme%2Fpay/hooks"
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), base)
	if !ok {
		writeJSON(w, 404, map[string]string{"message": "404 Project Not Found"})
		return
	}
	view := func(h map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range h {
			if k != "token" && k != "signing_token" { // never returned
				out[k] = v
			}
		}
		if f.signing {
			out["signing_token_present"] = h["signing_token"] != nil
		}
		return out
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		if page < len(f.hooks) {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		}
		var out []map[string]any
		if page <= len(f.hooks) {
			out = append(out, view(f.hooks[page-1]))
		}
		writeJSON(w, 200, out)
	case rest == "" && r.Method == http.MethodPost, r.Method == http.MethodPut:
		in := map[string]any{}
		if !f.decode(r, &in) {
			return
		}
		if in["url"] != testReceiver || in["enable_ssl_verification"] != true {
			f.t.Errorf("%s: %v", r.Method, in)
		}
		for _, flag := range []string{"push_events", "merge_requests_events", "tag_push_events", "pipeline_events"} {
			if in[flag] != true {
				f.t.Errorf("%s: %s = %v", r.Method, flag, in[flag])
			}
		}
		if in["token"] != testSecret && in["signing_token"] != testSecret {
			f.t.Errorf("%s: neither token nor signing_token is the secret", r.Method)
		}
		f.sentSigning = f.sentSigning || in["signing_token"] != nil
		if !f.signing {
			delete(in, "signing_token") // silently ignored with the feature off
		}
		if r.Method == http.MethodPost {
			f.nextID++
			in["id"] = f.nextID
			f.hooks = append(f.hooks, in)
			writeJSON(w, 201, view(in))
			return
		}
		id, _ := strconv.Atoi(strings.TrimPrefix(rest, "/"))
		for i, h := range f.hooks {
			if h["id"] == id || h["id"] == float64(id) {
				in["id"] = id
				f.hooks[i] = in
				writeJSON(w, 200, view(in))
				return
			}
		}
		writeJSON(w, 404, map[string]string{"message": "404 Not found"})
	case r.Method == http.MethodPost && strings.HasSuffix(rest, "/test/push_events"):
		f.tests = append(f.tests, strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/test/push_events"))
		writeJSON(w, 201, map[string]string{"message": "201 Created"})
	default:
		writeJSON(w, 404, map[string]string{"message": "404 Not Found"})
	}
}

func (f *fakeGitLabAPI) ours() int {
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

func (f *fakeGitLabAPI) foreignIntact() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[0]
	return h["id"] == 3 && h["url"] == foreignURL && h["token"] == foreignToken
}

func gitlabRecord(apiURL string) integrations.Record {
	return integrations.Record{ID: "pay-gl", Vendor: integrations.GitLab, Secret: testSecret, APIURL: apiURL, APIToken: testAPIToken, Target: "acme/pay", Active: true}
}

func TestGitLabRegisterCreatesThenUpdates_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitLabAPI(t)
	rec := gitlabRecord(f.srv.URL + "/api/v4/") // an api_url written with /api/v4 works too
	res := lifecycle(t, rec, Hook{URL: testReceiver, Secret: testSecret}, f.ours, f.foreignIntact)
	if res.HookID != "41" || res.ManualSteps != "" {
		t.Errorf("result %+v", res)
	}
	if f.hooks[1]["token"] != testSecret || f.sentSigning {
		t.Errorf("scheme token: hook %v", f.hooks[1])
	}
	if !slices.Contains(f.seen(), "PUT /api/v4/projects/acme%2Fpay/hooks/41") {
		t.Errorf("requests %q", f.seen())
	}
	sent, err := SendTest(context.Background(), nil, rec, res.HookID)
	if err != nil || !sent || !slices.Equal(f.tests, []string{"41"}) {
		t.Fatalf("SendTest = %v, %v; tests %q", sent, err, f.tests)
	}
}

func TestGitLabSigningToken_LocalFakeNoVendorSaaS(t *testing.T) {
	for _, supported := range []bool{true, false} {
		t.Run("feature "+strconv.FormatBool(supported), func(t *testing.T) {
			f := newFakeGitLabAPI(t)
			f.signing = supported
			rec := gitlabRecord(f.srv.URL)
			rec.Scheme = integrations.SchemeSigning
			res, err := Register(context.Background(), nil, rec, Hook{URL: testReceiver, Secret: testSecret})
			if err != nil || !res.Registered || !res.Created {
				t.Fatalf("Register = %+v, %v", res, err)
			}
			if f.hooks[1]["token"] != nil {
				t.Error("signing scheme sent the secret as the plain-text token")
			}
			if supported != (res.ManualSteps == "") {
				t.Errorf("feature %v: manual steps %q", supported, res.ManualSteps)
			}
			if !supported && (!strings.Contains(res.ManualSteps, "signing token") || !strings.Contains(res.ManualSteps, "caddy hookgate reveal pay-gl")) {
				t.Errorf("manual steps %q", res.ManualSteps)
			}
			mustNotLeak(t, "manual steps", res.ManualSteps)
		})
	}
}

func TestGitLabErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitLabAPI(t)
	rec := gitlabRecord(f.srv.URL)
	bad := rec
	bad.APIToken = "nope"
	_, err := Register(context.Background(), nil, bad, Hook{URL: testReceiver, Secret: testSecret})
	expectAPIError(t, err, 401)

	f.setFail(422, `{"message":{"url":["is blocked: Requests to the local network are not allowed"],"token":["`+testSecret+`"]}}`)
	_, err = Register(context.Background(), nil, rec, Hook{URL: testReceiver, Secret: testSecret})
	expectAPIError(t, err, 422)
	_, err = SendTest(context.Background(), nil, rec, "41")
	expectAPIError(t, err, 422)
}

func TestGitLabRefusesRedirectOffOrigin_LocalFakeNoVendorSaaS(t *testing.T) {
	var elsewhere fakeBase
	elsewhere.start(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "" {
			t.Error("the API token followed a redirect to another origin")
		}
		writeJSON(w, 200, []any{})
	})
	var f fakeBase
	f.start(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})
	_, err := Register(context.Background(), nil, gitlabRecord(f.srv.URL), Hook{URL: testReceiver, Secret: testSecret})
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
	if got := elsewhere.seen(); len(got) != 0 {
		t.Errorf("the other origin got %q", got)
	}
	mustNotLeak(t, "error", err.Error())
}

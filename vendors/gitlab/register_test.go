package gitlab

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/fakeapi"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// fakeGitLabAPI speaks GitLab's project hooks REST API v4 for the project
// acme/pay, addressed by its URL-encoded path (acme%2Fpay): list with
// X-Next-Page pagination, create, update, test, and the hook's events list
// (GitLab 17.3+), newest first, where a test's delivery is logged before
// the test answers, as GitLab logs a forced execution inline. With
// signing, it takes `signing_token` and reports `signing_token_present`, as
// GitLab does where the webhook_signing_token feature is enabled. No
// vendor SaaS is reachable from these machines.
type fakeGitLabAPI struct {
	fakeapi.Server
	hooks   []map[string]any
	nextID  int
	signing bool
	tests   []string
	// sentSigning records whether any request carried signing_token.
	sentSigning bool
	// events is the hook events log, oldest first; noEvents answers its
	// list 404, as GitLab before 17.3 does.
	events   []map[string]any
	noEvents bool
}

func newFakeGitLabAPI(t *testing.T) *fakeGitLabAPI {
	f := &fakeGitLabAPI{nextID: 40}
	f.hooks = append(f.hooks, map[string]any{"id": 3, "url": fakeapi.ForeignURL, "token": fakeapi.ForeignToken, "push_events": true})
	f.Start(t, f.serve)
	return f
}

// logDelivery appends a delivery of trigger with the ids GitLab sends to
// the events log, as GitLab's request_headers show them.
func (f *fakeGitLabAPI) logDelivery(trigger, key string) {
	f.events = append(f.events, map[string]any{
		"id": len(f.events) + 1, "url": fakeapi.Receiver, "trigger": trigger,
		"request_headers": map[string]string{
			"Content-Type": "application/json", "Idempotency-Key": key, "X-Gitlab-Event": "Push Hook",
			"X-Gitlab-Webhook-UUID": key + "-hook", "X-Gitlab-Event-UUID": key + "-event", "X-Gitlab-Token": "[REDACTED]",
		},
		"request_data": map[string]any{"object_kind": "push"}, "response_status": "200",
	})
}

func (f *fakeGitLabAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("PRIVATE-TOKEN") != fakeapi.APIToken {
		fakeapi.WriteJSON(w, 401, map[string]string{"message": "401 Unauthorized"})
		return
	}
	const base = "/api/v4/projects/acme%2Fpay/hooks"
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), base)
	if !ok {
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "404 Project Not Found"})
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
		fakeapi.WriteJSON(w, 200, out)
	case rest == "" && r.Method == http.MethodPost, r.Method == http.MethodPut:
		in := map[string]any{}
		if !f.Decode(r, &in) {
			return
		}
		if in["url"] != fakeapi.Receiver || in["enable_ssl_verification"] != true {
			f.T.Errorf("%s: %v", r.Method, in)
		}
		for _, flag := range []string{"push_events", "merge_requests_events", "tag_push_events", "pipeline_events"} {
			if in[flag] != true {
				f.T.Errorf("%s: %s = %v", r.Method, flag, in[flag])
			}
		}
		if in["token"] != fakeapi.Secret && in["signing_token"] != fakeapi.Secret {
			f.T.Errorf("%s: neither token nor signing_token is the secret", r.Method)
		}
		f.sentSigning = f.sentSigning || in["signing_token"] != nil
		if !f.signing {
			delete(in, "signing_token") // silently ignored with the feature off
		}
		if r.Method == http.MethodPost {
			f.nextID++
			in["id"] = f.nextID
			f.hooks = append(f.hooks, in)
			fakeapi.WriteJSON(w, 201, view(in))
			return
		}
		id, _ := strconv.Atoi(strings.TrimPrefix(rest, "/"))
		for i, h := range f.hooks {
			if h["id"] == id || h["id"] == float64(id) {
				in["id"] = id
				f.hooks[i] = in
				fakeapi.WriteJSON(w, 200, view(in))
				return
			}
		}
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "404 Not found"})
	case r.Method == http.MethodPost && strings.HasSuffix(rest, "/test/push_events"):
		f.tests = append(f.tests, strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/test/push_events"))
		f.logDelivery("push_hooks", "test-"+strconv.Itoa(len(f.tests)))
		fakeapi.WriteJSON(w, 201, map[string]string{"message": "201 Created"})
	case r.Method == http.MethodGet && strings.HasSuffix(rest, "/events") && !f.noEvents:
		newest := slices.Clone(f.events)
		slices.Reverse(newest)
		fakeapi.WriteJSON(w, 200, newest)
	default:
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "404 Not Found"})
	}
}

func (f *fakeGitLabAPI) ours() int {
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

func (f *fakeGitLabAPI) foreignIntact() bool {
	f.Lock()
	defer f.Unlock()
	h := f.hooks[0]
	return h["id"] == 3 && h["url"] == fakeapi.ForeignURL && h["token"] == fakeapi.ForeignToken
}

func gitlabRecord(apiURL string) integrations.Record {
	return integrations.Record{ID: "pay-gl", Vendor: integrations.GitLab, Secret: fakeapi.Secret, APIURL: apiURL, APIToken: fakeapi.APIToken, Target: "acme/pay", Active: true}
}

func TestGitLabRegisterCreatesThenUpdates_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitLabAPI(t)
	rec := gitlabRecord(f.URL() + "/api/v4/") // an api_url written with /api/v4 works too
	res := fakeapi.Lifecycle(t, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret}, f.ours, f.foreignIntact)
	if res.HookID != "41" || res.ManualSteps != "" {
		t.Errorf("result %+v", res)
	}
	if f.hooks[1]["token"] != fakeapi.Secret || f.sentSigning {
		t.Errorf("scheme token: hook %v", f.hooks[1])
	}
	if !slices.Contains(f.Seen(), "PUT /api/v4/projects/acme%2Fpay/hooks/41") {
		t.Errorf("requests %q", f.Seen())
	}
	td, err := vendorapi.SendTest(context.Background(), nil, rec, res.HookID)
	if err != nil || !td.Sent || !slices.Equal(f.tests, []string{"41"}) {
		t.Fatalf("SendTest = %+v, %v; tests %q", td, err, f.tests)
	}
}

// TestGitLabSendTestNamesItsDelivery_LocalFakeNoVendorSaaS: the test
// delivery is the push entry the hook's events list gained with the test,
// by the ids GitLab sent; an older push, and other triggers, are not. An
// events list GitLab does not have (before 17.3) leaves it unidentified.
func TestGitLabSendTestNamesItsDelivery_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitLabAPI(t)
	rec := gitlabRecord(f.URL())
	f.logDelivery("push_hooks", "real-push")
	f.logDelivery("merge_requests_hooks", "real-mr")
	td, err := vendorapi.SendTest(context.Background(), nil, rec, "41")
	want := []string{"test-1", "test-1-event", "test-1-hook"}
	if err != nil || !td.Sent || !td.Identified() || td.Hook != "" || !slices.Equal(td.Deliveries, want) {
		t.Fatalf("SendTest = %+v, %v; want deliveries %q", td, err, want)
	}
	if got := f.Seen(); !slices.Equal(got, []string{
		"GET /api/v4/projects/acme%2Fpay/hooks/41/events",
		"POST /api/v4/projects/acme%2Fpay/hooks/41/test/push_events",
		"GET /api/v4/projects/acme%2Fpay/hooks/41/events",
	}) {
		t.Errorf("requests %q", got)
	}

	f.Lock()
	f.noEvents = true
	f.Unlock()
	td, err = vendorapi.SendTest(context.Background(), nil, rec, "41")
	if err != nil || !td.Sent || td.Identified() || !strings.Contains(td.Unidentified, "17.3") || len(td.Deliveries) != 0 {
		t.Fatalf("without an events list: %+v, %v", td, err)
	}
	fakeapi.MustNotLeak(t, "unidentified", td.Unidentified)
}

func TestGitLabSigningToken_LocalFakeNoVendorSaaS(t *testing.T) {
	for _, supported := range []bool{true, false} {
		t.Run("feature "+strconv.FormatBool(supported), func(t *testing.T) {
			f := newFakeGitLabAPI(t)
			f.signing = supported
			rec := gitlabRecord(f.URL())
			rec.Scheme = integrations.SchemeSigning
			res, err := vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
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
			fakeapi.MustNotLeak(t, "manual steps", res.ManualSteps)
		})
	}
}

func TestGitLabErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitLabAPI(t)
	rec := gitlabRecord(f.URL())
	bad := rec
	bad.APIToken = "nope"
	_, err := vendorapi.Register(context.Background(), nil, bad, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 401)

	f.SetFail(422, `{"message":{"url":["is blocked: Requests to the local network are not allowed"],"token":["`+fakeapi.Secret+`"]}}`)
	_, err = vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 422)
	_, err = vendorapi.SendTest(context.Background(), nil, rec, "41")
	fakeapi.ExpectAPIError(t, err, 422)
}

func TestGitLabRefusesRedirectOffOrigin_LocalFakeNoVendorSaaS(t *testing.T) {
	var elsewhere fakeapi.Server
	elsewhere.Start(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "" {
			t.Error("the API token followed a redirect to another origin")
		}
		fakeapi.WriteJSON(w, 200, []any{})
	})
	var f fakeapi.Server
	f.Start(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL()+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})
	_, err := vendorapi.Register(context.Background(), nil, gitlabRecord(f.URL()), vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
	if got := elsewhere.Seen(); len(got) != 0 {
		t.Errorf("the other origin got %q", got)
	}
	fakeapi.MustNotLeak(t, "error", err.Error())
}

func TestHasAPI(t *testing.T) {
	if !vendorapi.HasAPI(Vendor) {
		t.Errorf("HasAPI(%s) = false", Vendor)
	}
}

func TestDefaultAPIURL(t *testing.T) {
	fakeapi.WantFirstRequest(t, integrations.Record{ID: "x", Vendor: Vendor, APIToken: fakeapi.APIToken, Target: "acme/pay", Secret: fakeapi.Secret}, "https://gitlab.com/api/v4/projects/acme%2Fpay/hooks?per_page=100")
}

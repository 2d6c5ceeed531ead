package github

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

// fakeGitHubAPI speaks GitHub's repository webhooks REST API (version
// 2022-11-28) for acme/pay: list with Link pagination, create, update, ping.
// No vendor SaaS is reachable from these machines.
type fakeGitHubAPI struct {
	fakeapi.Server
	hooks    []*fakeGitHubHook
	nextID   int64
	pageSize int
	pings    []int64
}

type fakeGitHubHook struct {
	ID     int64          `json:"id"`
	Name   string         `json:"name"`
	Active bool           `json:"active"`
	Events []string       `json:"events"`
	Config map[string]any `json:"config"`
}

func newFakeGitHubAPI(t *testing.T) *fakeGitHubAPI {
	f := &fakeGitHubAPI{nextID: 100, pageSize: 1}
	// Someone else's hook, seeded first so listing has to page past it.
	f.hooks = append(f.hooks, &fakeGitHubHook{ID: 7, Name: "web", Active: true, Events: []string{"push"},
		Config: map[string]any{"url": fakeapi.ForeignURL, "content_type": "json", "secret": fakeapi.ForeignToken}})
	f.Start(t, f.serve)
	return f
}

func (f *fakeGitHubAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+fakeapi.APIToken {
		fakeapi.WriteJSON(w, 401, map[string]string{"message": "Bad credentials"})
		return
	}
	if r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
		f.T.Errorf("%s %s: Accept %q, X-GitHub-Api-Version %q", r.Method, r.URL.Path, r.Header.Get("Accept"), r.Header.Get("X-GitHub-Api-Version"))
	}
	const base = "/repos/acme/pay/hooks"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		if r.URL.Query().Get("per_page") != "100" {
			f.T.Errorf("list: per_page %q", r.URL.Query().Get("per_page"))
		}
		from := (page - 1) * f.pageSize
		var out []map[string]any
		for _, h := range f.hooks[min(from, len(f.hooks)):min(from+f.pageSize, len(f.hooks))] {
			cfg := map[string]any{"url": h.Config["url"], "content_type": h.Config["content_type"], "insecure_ssl": "0"}
			if h.Config["secret"] != nil {
				cfg["secret"] = "********" // GitHub never returns the secret
			}
			out = append(out, map[string]any{"id": h.ID, "name": h.Name, "active": h.Active, "events": h.Events, "config": cfg})
		}
		if from+f.pageSize < len(f.hooks) {
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=100&page=%d>; rel="next", <%s%s?per_page=100&page=9>; rel="last"`, f.URL(), base, page+1, f.URL(), base))
		}
		fakeapi.WriteJSON(w, 200, out)
	case rest == "" && r.Method == http.MethodPost:
		var in fakeGitHubHook
		if !f.Decode(r, &in) {
			return
		}
		if in.Name != "web" || !in.Active || in.Config["content_type"] != "json" || in.Config["insecure_ssl"] != "0" || in.Config["secret"] != fakeapi.Secret || in.Config["url"] != fakeapi.Receiver {
			f.T.Errorf("create: %+v", in)
		}
		if !slices.Equal(in.Events, []string{"push", "pull_request"}) {
			f.T.Errorf("create: events %q", in.Events)
		}
		f.nextID++
		in.ID = f.nextID
		f.hooks = append(f.hooks, &in)
		fakeapi.WriteJSON(w, 201, in)
	case r.Method == http.MethodPatch || (r.Method == http.MethodPost && strings.HasSuffix(rest, "/pings")):
		idText := strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/pings")
		id, _ := strconv.ParseInt(idText, 10, 64)
		i := slices.IndexFunc(f.hooks, func(h *fakeGitHubHook) bool { return h.ID == id })
		if i < 0 {
			fakeapi.WriteJSON(w, 404, map[string]string{"message": "Not Found"})
			return
		}
		if r.Method == http.MethodPost {
			f.pings = append(f.pings, id)
			w.WriteHeader(204)
			return
		}
		var in fakeGitHubHook
		if !f.Decode(r, &in) {
			return
		}
		if in.Config["url"] != fakeapi.Receiver || in.Config["secret"] != fakeapi.Secret || in.Config["content_type"] != "json" {
			f.T.Errorf("update: config %+v", in.Config)
		}
		h := f.hooks[i]
		h.Config, h.Events, h.Active = in.Config, in.Events, in.Active
		fakeapi.WriteJSON(w, 200, h)
	default:
		fakeapi.WriteJSON(w, 404, map[string]string{"message": "Not Found"})
	}
}

func (f *fakeGitHubAPI) ours() int {
	f.Lock()
	defer f.Unlock()
	n := 0
	for _, h := range f.hooks {
		if h.Config["url"] == fakeapi.Receiver {
			n++
		}
	}
	return n
}

func (f *fakeGitHubAPI) foreignIntact() bool {
	f.Lock()
	defer f.Unlock()
	h := f.hooks[0]
	return h.ID == 7 && h.Config["url"] == fakeapi.ForeignURL && h.Config["secret"] == fakeapi.ForeignToken
}

func githubRecord(apiURL string) integrations.Record {
	return integrations.Record{ID: "pay-gh", Vendor: integrations.GitHub, Secret: fakeapi.Secret, APIURL: apiURL, APIToken: fakeapi.APIToken, Target: "acme/pay", Active: true}
}

func TestGitHubRegisterCreatesThenUpdates_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitHubAPI(t)
	rec := githubRecord(f.URL())
	res := fakeapi.Lifecycle(t, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret}, f.ours, f.foreignIntact)
	if res.HookID != "101" {
		t.Errorf("hook id %q", res.HookID)
	}
	// Listing paged past the foreign hook through Link rel="next".
	if got := f.Seen(); !slices.Contains(got, "PATCH /repos/acme/pay/hooks/101") || len(got) != 5 {
		t.Errorf("requests: %q", got)
	}
	td, err := vendorapi.SendTest(context.Background(), nil, rec, res.HookID)
	if err != nil || !td.Sent || !td.Identified() || td.Event != "ping" || td.Hook != "101" {
		t.Fatalf("SendTest = %+v, %v; want the ping named by hook 101", td, err)
	}
	if !slices.Equal(f.pings, []int64{101}) || !slices.Contains(f.Seen(), "POST /repos/acme/pay/hooks/101/pings") {
		t.Errorf("pings %v, requests %q", f.pings, f.Seen())
	}
}

func TestGitHubErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitHubAPI(t)
	rec := githubRecord(f.URL())

	bad := rec
	bad.APIToken = "wrong"
	_, err := vendorapi.Register(context.Background(), nil, bad, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 401)
	if !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("error lacks the vendor's message: %v", err)
	}

	// A 422 that echoes the request's secret and the token.
	f.SetFail(422, `{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"config.secret `+fakeapi.Secret+` rejected for token `+fakeapi.APIToken+`"}]}`)
	_, err = vendorapi.Register(context.Background(), nil, rec, vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	fakeapi.ExpectAPIError(t, err, 422)
	if !strings.Contains(err.Error(), "Validation Failed") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %q: want the vendor's message, scrubbed", err)
	}
	_, err = vendorapi.SendTest(context.Background(), nil, rec, "101")
	fakeapi.ExpectAPIError(t, err, 422)
}

func TestGitHubOffOriginNextPageIsRefused_LocalFakeNoVendorSaaS(t *testing.T) {
	var f fakeapi.Server
	f.Start(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<https://elsewhere.example/repos/acme/pay/hooks?page=2>; rel="next"`)
		fakeapi.WriteJSON(w, 200, []any{})
	})
	_, err := vendorapi.Register(context.Background(), nil, githubRecord(f.URL()), vendorapi.Hook{URL: fakeapi.Receiver, Secret: fakeapi.Secret})
	if err == nil || !strings.Contains(err.Error(), "origin") {
		t.Fatalf("err = %v, want the off-origin page refused", err)
	}
	if got := f.Seen(); len(got) != 1 {
		t.Errorf("requests %q: nothing may be created after a refused page", got)
	}
}

func TestHasAPI(t *testing.T) {
	if !vendorapi.HasAPI(Vendor) {
		t.Errorf("HasAPI(%s) = false", Vendor)
	}
}

func TestDefaultAPIURL(t *testing.T) {
	fakeapi.WantFirstRequest(t, integrations.Record{ID: "x", Vendor: Vendor, APIToken: fakeapi.APIToken, Target: "acme/pay", Secret: fakeapi.Secret}, "https://api.github.com/repos/acme/pay/hooks?per_page=100")
}

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

// fakeGitHubAPI speaks GitHub's repository webhooks REST API (version
// 2022-11-28) for acme/pay: list with Link pagination, create, update, ping.
// No vendor SaaS is reachable from these machines.
type fakeGitHubAPI struct {
	fakeBase
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
		Config: map[string]any{"url": foreignURL, "content_type": "json", "secret": foreignToken}})
	f.start(t, f.serve)
	return f
}

func (f *fakeGitHubAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testAPIToken {
		writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
		return
	}
	if r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
		f.t.Errorf("%s %s: Accept %q, X-GitHub-Api-Version %q", r.Method, r.URL.Path, r.Header.Get("Accept"), r.Header.Get("X-GitHub-Api-Version"))
	}
	const base = "/repos/acme/pay/hooks"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		if r.URL.Query().Get("per_page") != "100" {
			f.t.Errorf("list: per_page %q", r.URL.Query().Get("per_page"))
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
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=100&page=%d>; rel="next", <%s%s?per_page=100&page=9>; rel="last"`, f.srv.URL, base, page+1, f.srv.URL, base))
		}
		writeJSON(w, 200, out)
	case rest == "" && r.Method == http.MethodPost:
		var in fakeGitHubHook
		if !f.decode(r, &in) {
			return
		}
		if in.Name != "web" || !in.Active || in.Config["content_type"] != "json" || in.Config["insecure_ssl"] != "0" || in.Config["secret"] != testSecret || in.Config["url"] != testReceiver {
			f.t.Errorf("create: %+v", in)
		}
		if !slices.Equal(in.Events, []string{"push", "pull_request"}) {
			f.t.Errorf("create: events %q", in.Events)
		}
		f.nextID++
		in.ID = f.nextID
		f.hooks = append(f.hooks, &in)
		writeJSON(w, 201, in)
	case r.Method == http.MethodPatch || (r.Method == http.MethodPost && strings.HasSuffix(rest, "/pings")):
		idText := strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/pings")
		id, _ := strconv.ParseInt(idText, 10, 64)
		i := slices.IndexFunc(f.hooks, func(h *fakeGitHubHook) bool { return h.ID == id })
		if i < 0 {
			writeJSON(w, 404, map[string]string{"message": "Not Found"})
			return
		}
		if r.Method == http.MethodPost {
			f.pings = append(f.pings, id)
			w.WriteHeader(204)
			return
		}
		var in fakeGitHubHook
		if !f.decode(r, &in) {
			return
		}
		if in.Config["url"] != testReceiver || in.Config["secret"] != testSecret || in.Config["content_type"] != "json" {
			f.t.Errorf("update: config %+v", in.Config)
		}
		h := f.hooks[i]
		h.Config, h.Events, h.Active = in.Config, in.Events, in.Active
		writeJSON(w, 200, h)
	default:
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
	}
}

func (f *fakeGitHubAPI) ours() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hooks {
		if h.Config["url"] == testReceiver {
			n++
		}
	}
	return n
}

func (f *fakeGitHubAPI) foreignIntact() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[0]
	return h.ID == 7 && h.Config["url"] == foreignURL && h.Config["secret"] == foreignToken
}

func githubRecord(apiURL string) integrations.Record {
	return integrations.Record{ID: "pay-gh", Vendor: integrations.GitHub, Secret: testSecret, APIURL: apiURL, APIToken: testAPIToken, Target: "acme/pay", Active: true}
}

func TestGitHubRegisterCreatesThenUpdates_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitHubAPI(t)
	rec := githubRecord(f.srv.URL)
	res := lifecycle(t, rec, Hook{URL: testReceiver, Secret: testSecret}, f.ours, f.foreignIntact)
	if res.HookID != "101" {
		t.Errorf("hook id %q", res.HookID)
	}
	// Listing paged past the foreign hook through Link rel="next".
	if got := f.seen(); !slices.Contains(got, "PATCH /repos/acme/pay/hooks/101") || len(got) != 5 {
		t.Errorf("requests: %q", got)
	}
	sent, err := SendTest(context.Background(), nil, rec, res.HookID)
	if err != nil || !sent {
		t.Fatalf("SendTest = %v, %v", sent, err)
	}
	if !slices.Equal(f.pings, []int64{101}) || !slices.Contains(f.seen(), "POST /repos/acme/pay/hooks/101/pings") {
		t.Errorf("pings %v, requests %q", f.pings, f.seen())
	}
}

func TestGitHubErrorsNameStatusWithoutSecrets_LocalFakeNoVendorSaaS(t *testing.T) {
	f := newFakeGitHubAPI(t)
	rec := githubRecord(f.srv.URL)

	bad := rec
	bad.APIToken = "wrong"
	_, err := Register(context.Background(), nil, bad, Hook{URL: testReceiver, Secret: testSecret})
	expectAPIError(t, err, 401)
	if !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("error lacks the vendor's message: %v", err)
	}

	// A 422 that echoes the request's secret and the token.
	f.setFail(422, `{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"config.secret `+testSecret+` rejected for token `+testAPIToken+`"}]}`)
	_, err = Register(context.Background(), nil, rec, Hook{URL: testReceiver, Secret: testSecret})
	expectAPIError(t, err, 422)
	if !strings.Contains(err.Error(), "Validation Failed") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %q: want the vendor's message, scrubbed", err)
	}
	_, err = SendTest(context.Background(), nil, rec, "101")
	expectAPIError(t, err, 422)
}

func TestGitHubOffOriginNextPageIsRefused_LocalFakeNoVendorSaaS(t *testing.T) {
	var f fakeBase
	f.start(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<https://elsewhere.example/repos/acme/pay/hooks?page=2>; rel="next"`)
		writeJSON(w, 200, []any{})
	})
	_, err := Register(context.Background(), nil, githubRecord(f.srv.URL), Hook{URL: testReceiver, Secret: testSecret})
	if err == nil || !strings.Contains(err.Error(), "origin") {
		t.Fatalf("err = %v, want the off-origin page refused", err)
	}
	if got := f.seen(); len(got) != 1 {
		t.Errorf("requests %q: nothing may be created after a refused page", got)
	}
}

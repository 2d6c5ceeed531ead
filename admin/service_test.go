package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/secretstore"
	"github.com/hookgate/caddy-hookgate/state"
)

// memVault is a Vault of records in memory, versioned as KV v2 is.
type memVault struct {
	mu       sync.Mutex
	data     map[string]map[string]any
	versions map[string]int
	down     bool
}

func newMemVault() *memVault {
	return &memVault{data: map[string]map[string]any{}, versions: map[string]int{}}
}

func (m *memVault) Fetch(_ context.Context, id string) (integrations.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return integrations.Record{}, errors.New("vault: connection refused")
	}
	d, ok := m.data[id]
	if !ok {
		return integrations.Record{}, secretstore.ErrNotFound
	}
	return integrations.FromData(id, d, m.versions[id])
}

func (m *memVault) Write(_ context.Context, id string, data map[string]any) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return 0, errors.New("vault: connection refused")
	}
	m.data[id] = data
	m.versions[id]++
	return m.versions[id], nil
}

func (m *memVault) List(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id := range m.data {
		ids = append(ids, id)
	}
	return ids, nil
}

// newService is a Service over a memory Vault, one static integration and
// a memory audit log, recording what it logs and invalidates.
func newService(t *testing.T) (*Service, *memVault, *[]state.AdminEntry, *[]string) {
	t.Helper()
	static, err := secretstore.NewStatic([]integrations.Record{{ID: "static-gh", Vendor: integrations.GitHub, Secret: "s", Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	v := newMemVault()
	var logged []state.AdminEntry
	var invalidated []string
	s := &Service{
		Static:     static,
		Vault:      v,
		Deliveries: state.NewMemory(state.MemoryOptions{}),
		Invalidate: func(_ context.Context, id string) { invalidated = append(invalidated, id) },
		Log:        func(_ context.Context, e state.AdminEntry) { logged = append(logged, e) },
		PublicURL:  "https://hooks.example.com/",
		Now:        time.Now,
	}
	return s, v, &logged, &invalidated
}

// TestViewHasNoSecretValues: the view shows that there is a secret and
// where the vendor posts, and no secret or token value.
func TestViewHasNoSecretValues(t *testing.T) {
	s := &Service{PublicURL: "https://hooks.example.com/", Now: time.Now}
	rec := integrations.Record{ID: "gh", Vendor: integrations.GitHub, Secret: "secret-value-1", PreviousSecret: "secret-value-0",
		PreviousValidUntil: time.Now().Add(time.Hour), Active: true, APIToken: "token-value", Target: "o/r", Version: 3}
	raw, _ := json.Marshal(s.View(rec, false))
	for _, sv := range []string{"secret-value", "token-value"} {
		if strings.Contains(string(raw), sv) {
			t.Fatalf("view contains %s: %s", sv, raw)
		}
	}
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	if v["has_secret"] != true || v["secret_version"] != 3.0 || v["previous_active"] != true || v["previous_valid_until"] == nil ||
		v["receiver_path"] != "/webhooks/ci/github/gh" || v["receiver_url"] != "https://hooks.example.com/webhooks/ci/github/gh" {
		t.Fatalf("view %s", raw)
	}
}

// TestUpdateRegenerateReveal: settings create a record, a regenerate keeps
// the old secret for the grace, reveal answers the current one; each
// write invalidates the caches and every action is logged without a
// secret value.
func TestUpdateRegenerateReveal(t *testing.T) {
	s, v, logged, invalidated := newService(t)
	ctx := context.Background()
	view, created, err := s.Update(ctx, "127.0.0.1:1", "gh", map[string]any{"vendor": "github", "branches": []any{"main"}})
	if err != nil || !created || view["has_secret"] != false {
		t.Fatalf("create: %v %v %v", view, created, err)
	}
	if _, created, err := s.Update(ctx, "127.0.0.1:1", "gh", map[string]any{"target": "o/r"}); err != nil || created {
		t.Fatalf("update: %v %v", created, err)
	}
	if _, _, err := s.Update(ctx, "127.0.0.1:1", "gh", map[string]any{"secret": "x"}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("setting the secret: %v, want ErrBadRequest", err)
	}
	if _, err := s.Reveal(ctx, "127.0.0.1:1", "gh"); !errors.Is(err, ErrConflict) {
		t.Fatalf("reveal without a secret: %v, want ErrConflict", err)
	}
	first, err := s.Regenerate(ctx, "127.0.0.1:1", "gh", time.Hour)
	if err != nil || first.Secret == "" || first.PreviousValidUntil != nil {
		t.Fatalf("first regenerate: %+v %v", first, err)
	}
	second, err := s.Regenerate(ctx, "127.0.0.1:1", "gh", time.Hour)
	if err != nil || second.Secret == first.Secret || second.PreviousValidUntil == nil || second.SecretVersion != 4 {
		t.Fatalf("second regenerate: %+v %v", second, err)
	}
	rec, _ := v.Fetch(ctx, "gh")
	if rec.Secret != second.Secret || rec.PreviousSecret != first.Secret || !rec.PreviousActive(time.Now()) || rec.Target != "o/r" {
		t.Fatalf("stored after rotation: previous active %v, target %q", rec.PreviousActive(time.Now()), rec.Target)
	}
	if got, err := s.Reveal(ctx, "127.0.0.1:1", "gh"); err != nil || got.Secret != second.Secret || got.Paste != nil {
		t.Fatalf("reveal: %v", err)
	}
	if len(*invalidated) != 4 {
		t.Errorf("%d invalidations for 4 writes", len(*invalidated))
	}
	for _, e := range *logged {
		for _, secret := range []string{first.Secret, second.Secret} {
			if strings.Contains(e.Outcome, secret) {
				t.Fatalf("logged a secret: %+v", e)
			}
		}
		if e.Who != "127.0.0.1:1" || e.Integration != "gh" {
			t.Fatalf("logged %+v", e)
		}
	}
}

// TestStaticAndMissing: the config owns a static integration (conflict),
// an unknown id is not found, and a Vault that is down is unavailable.
func TestStaticAndMissing(t *testing.T) {
	s, v, _, _ := newService(t)
	ctx := context.Background()
	if _, err := s.Regenerate(ctx, "w", "static-gh", 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("regenerate static: %v", err)
	}
	if _, _, err := s.Update(ctx, "w", "static-gh", map[string]any{"target": "o/r"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("update static: %v", err)
	}
	if _, static, err := s.Fresh(ctx, "static-gh"); err != nil || !static {
		t.Fatalf("fresh static: %v %v", static, err)
	}
	if _, err := s.Reveal(ctx, "w", "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reveal unknown: %v", err)
	}
	v.down = true
	if _, err := s.Reveal(ctx, "w", "nobody"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("reveal with Vault down: %v", err)
	}
	s.Vault = nil
	if _, _, err := s.Update(ctx, "w", "new", map[string]any{"vendor": "github"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("update without vault: %v", err)
	}
}

// TestFreshGoesThroughReload: with Reload set, every read of a Vault
// record on an admin path (view, reveal, register) is Reload's, and its
// errors are mapped as Vault's; a static record never reaches it.
func TestFreshGoesThroughReload(t *testing.T) {
	s, v, _, _ := newService(t)
	ctx := context.Background()
	if _, err := v.Write(ctx, "gh", map[string]any{"vendor": "github", "secret": "vault-secret-1"}); err != nil {
		t.Fatal(err)
	}
	var reloaded []string
	s.Reload = func(ctx context.Context, id string) (integrations.Record, error) {
		reloaded = append(reloaded, id)
		return v.Fetch(ctx, id)
	}
	if _, static, err := s.Fresh(ctx, "gh"); err != nil || static {
		t.Fatalf("fresh: %v %v", static, err)
	}
	if got, err := s.Reveal(ctx, "w", "gh"); err != nil || got.Secret != "vault-secret-1" {
		t.Fatalf("reveal: %v", err)
	}
	if _, err := s.Register(ctx, "w", "gh"); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("register without api_token: %v, want ErrBadRequest after the read", err)
	}
	if _, static, err := s.Fresh(ctx, "static-gh"); err != nil || !static {
		t.Fatalf("fresh static: %v %v", static, err)
	}
	if _, err := s.Reveal(ctx, "w", "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reveal unknown through Reload: %v", err)
	}
	if want := []string{"gh", "gh", "gh", "nobody"}; !slices.Equal(reloaded, want) {
		t.Fatalf("reloaded %q, want %q", reloaded, want)
	}
}

// TestDurationSettingsSurviveUpdate: max_age and tolerance are settings a
// PUT writes and the view shows, and a later PUT of another setting keeps
// them (the record is written back whole).
func TestDurationSettingsSurviveUpdate(t *testing.T) {
	s, v, _, _ := newService(t)
	ctx := context.Background()
	view, _, err := s.Update(ctx, "127.0.0.1:1", "gl", map[string]any{"vendor": "gitlab", "scheme": "signing", "max_age": "off", "tolerance": "20m"})
	if err != nil || view["max_age"] != "off" || view["tolerance"] != "20m0s" {
		t.Fatalf("create: %v %v", view, err)
	}
	if _, _, err := s.Update(ctx, "127.0.0.1:1", "gl", map[string]any{"target": "acme/pay"}); err != nil {
		t.Fatal(err)
	}
	rec, _ := v.Fetch(ctx, "gl")
	if rec.MaxAge != integrations.MaxAgeOff || rec.Tolerance != 20*time.Minute || rec.Target != "acme/pay" {
		t.Fatalf("after a second PUT: max_age %v, tolerance %v, target %q", rec.MaxAge, rec.Tolerance, rec.Target)
	}
	if _, _, err := s.Update(ctx, "127.0.0.1:1", "gl", map[string]any{"tolerance": "forever"}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bad tolerance: %v", err)
	}
}

// TestPasteForServiceNowHMAC: regenerate and reveal of a ServiceNow hmac
// integration answer, beside the secret, the base64 form generateMac
// takes and where it goes; other integrations answer no paste.
func TestPasteForServiceNowHMAC(t *testing.T) {
	s, _, _, _ := newService(t)
	ctx := context.Background()
	if _, _, err := s.Update(ctx, "127.0.0.1:1", "sn", map[string]any{"vendor": "servicenow", "scheme": "hmac"}); err != nil {
		t.Fatal(err)
	}
	rot, err := s.Regenerate(ctx, "127.0.0.1:1", "sn", 0)
	if err != nil || rot.Paste == nil || rot.Paste.Value != base64.StdEncoding.EncodeToString([]byte(rot.Secret)) || !strings.Contains(rot.Paste.Into, "hookgate.key") {
		t.Fatalf("regenerate: %+v %v", rot, err)
	}
	got, err := s.Reveal(ctx, "127.0.0.1:1", "sn")
	if err != nil || got.Secret != rot.Secret || got.Paste == nil || *got.Paste != *rot.Paste {
		t.Fatalf("reveal: %+v %v", got, err)
	}
	if _, _, err := s.Update(ctx, "127.0.0.1:1", "sn", map[string]any{"scheme": "bearer"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Reveal(ctx, "127.0.0.1:1", "sn"); err != nil || got.Paste != nil {
		t.Fatalf("reveal under bearer: %+v %v", got, err)
	}
}

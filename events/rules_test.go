package events

import (
	"net/http"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// register adds rules for a test vendor, removed when the test ends.
func register(t *testing.T, v integrations.Vendor, r Rules) {
	t.Helper()
	Register(v, r)
	t.Cleanup(func() { delete(registry, v) })
}

// TestRegisterDispatch: Identify and Normalize go through what a vendor
// registered; Identify bounds what the vendor's function returns (a
// delivery id that is not printable is hashed), and a vendor without
// Identify reads the template fields.
func TestRegisterDispatch(t *testing.T) {
	register(t, "test-hdr", Rules{
		Identify: func(s integrations.Scheme, h http.Header, _ []byte) Identity {
			return Identity{Event: h.Get("X-Test-Event") + string(s), Delivery: "bad\x00id"}
		},
		Normalize: func(in *Input) ([]Event, string, error) {
			in.Event = "renamed"
			return []Event{in.CIEvent(TypePing, "", in.d.ReceivedAt, CI{Actor: in.Header().Get("X-Test-Event")})}, "", nil
		},
	})
	h := http.Header{"X-Test-Event": {"ping-"}}
	id := Identify("test-hdr", "token", h, nil)
	// The delivery id is `sha256:` and the hex of the first 16 bytes of
	// the SHA-256 of "bad\x00id".
	if id != (Identity{Event: "ping-token", Delivery: "sha256:b76a9d3dd29d60565f0cea9794918b29"}) {
		t.Fatalf("Identify = %+v", id)
	}
	evs, ign, reason, err := Normalize(Delivery{Vendor: "test-hdr", Header: h, Body: []byte(`{}`), Identity: id})
	if err != nil || ign || len(evs) != 1 {
		t.Fatalf("ignored=%v %q err %v", ign, reason, err)
	}
	if evs[0].Source.Event != "renamed" || evs[0].CI.Actor != "ping-" || evs[0].Source.Vendor != "test-hdr" {
		t.Errorf("event %+v", evs[0])
	}

	register(t, "test-tmpl", Rules{Normalize: func(*Input) ([]Event, string, error) { return nil, "", nil }})
	if id := Identify("test-tmpl", "", nil, []byte(`{"delivery":"d-1"}`)); id != (Identity{Event: "ticket", Delivery: "d-1"}) {
		t.Errorf("template Identify = %+v", id)
	}
	if _, ign, reason, err := Normalize(Delivery{Vendor: "test-tmpl", Body: []byte(`{}`)}); err != nil || !ign || reason != "no events" {
		t.Errorf("no events: ignored=%v %q err %v", ign, reason, err)
	}
}

// TestRegisterDoneByState: DoneByState switches the done test from the
// status category to the record's done states.
func TestRegisterDoneByState(t *testing.T) {
	register(t, "test-cat", Rules{Normalize: func(*Input) ([]Event, string, error) { return nil, "", nil }})
	register(t, "test-state", Rules{Normalize: func(*Input) ([]Event, string, error) { return nil, "", nil }, DoneByState: true})
	rec := integrations.Record{DoneStates: []string{" Fixed "}}
	for _, c := range []struct {
		vendor, status, category string
		done                     bool
	}{
		{"test-cat", "Fixed", "", false},
		{"test-cat", "Whatever", "done", true},
		{"test-state", "fixed", "", true},
		{"test-state", "Whatever", "done", false},
	} {
		if got := isDone(rec, c.vendor, &Ticket{Status: c.status, StatusCategory: c.category}); got != c.done {
			t.Errorf("%s %q/%q: done %v, want %v", c.vendor, c.status, c.category, got, c.done)
		}
	}
}

// TestRegisterPanics: a vendor registered twice, or without Normalize, is
// a programming error found at start.
func TestRegisterPanics(t *testing.T) {
	register(t, "test-once", Rules{Normalize: func(*Input) ([]Event, string, error) { return nil, "", nil }})
	for name, fn := range map[string]func(){
		"twice": func() {
			Register("test-once", Rules{Normalize: func(*Input) ([]Event, string, error) { return nil, "", nil }})
		},
		"no normalize": func() { Register("test-none", Rules{}) },
		"no name":      func() { Register("", Rules{Normalize: func(*Input) ([]Event, string, error) { return nil, "", nil }}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
	if _, ok := registry["test-none"]; ok {
		t.Error("rules without Normalize were registered")
	}
}

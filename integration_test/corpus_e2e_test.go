package integration_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/internal/payloads"
	"github.com/hookgate/caddy-hookgate/internal/testredis"
)

// TestCorpusEndToEnd posts every payload file (the shared corpus when
// HOOKGATE_CORPUS is set, else hookgate's own payloads) through a real
// Caddy in forward mode, signed as its vendor would, and checks that the
// finding service receives exactly the events normalization and
// orchestration yield for it (fan-out counted), each once.
func TestCorpusEndToEnd(t *testing.T) {
	root, fromEnv, err := payloads.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := payloads.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no payload files under %s", root)
	}
	folders := map[string]bool{}
	for _, f := range files {
		folder, _, _ := strings.Cut(f, "/")
		folders[folder] = true
	}
	names := make([]string, 0, len(folders))
	for f := range folders {
		names = append(names, f)
	}
	sort.Strings(names)
	var ints strings.Builder
	for _, folder := range names {
		v, ok := payloads.VendorOf(folder)
		if !ok {
			t.Fatalf("folder %q names no vendor", folder)
		}
		id := folder + "-corpus"
		fmt.Fprintf(&ints, "\t\tintegration %s {\n\t\t\tvendor %s\n\t\t\tsecret %s\n\t\t\tscans sast\n\t\t\tpipeline\n\t\t}\n", id, v, secretFor(id))
	}

	redisAddr, prefix := testredis.Shared(t)
	fs := newFindingService(t)
	base := startForwardCaddy(t, redisAddr, prefix, fs.URL, ints.String()).base

	// Each file is a delivery of its own (ownBody: a vendor never sends
	// one body twice), posted in vendor-time order, as the vendor sent
	// them: a ticket change older than one already handed on would be
	// kept back (stale), and two files of one ticket change are one
	// change (the second a duplicate).
	type post struct {
		rel  string
		body []byte
		at   time.Time
	}
	var posts []post
	for _, rel := range files {
		body, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		body = ownBody(body, rel)
		d, err := payloads.Delivery(rel, body)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := events.NormalizeDelivery(d)
		posts = append(posts, post{rel, body, n.Facts.EventTime})
	}
	sort.SliceStable(posts, func(i, j int) bool { return posts[i].at.Before(posts[j].at) })

	want := map[string]bool{}
	ignored, malformed := 0, 0
	for _, p := range posts {
		rel, body := p.rel, p.body
		v, h, err := payloads.Headers(rel, body)
		if err != nil {
			t.Fatal(err)
		}
		folder, _, _ := strings.Cut(rel, "/")
		id := folder + "-corpus"
		ident := events.Identify(v, v.DefaultScheme(), h, body)
		d := events.Delivery{Vendor: v, Integration: id, Header: h, Body: body, Identity: ident,
			DeliveryKey: events.DeliveryKey(id, ident.Delivery, body), Signature: "valid", Via: "webhook", ReceivedAt: time.Now()}
		evs, skip, _, err := events.Normalize(d)
		if err != nil && !errors.Is(err, events.ErrMalformed) {
			t.Fatalf("%s does not normalize: %v", rel, err)
		}
		seenBefore := len(evs) > 0
		for _, e := range evs {
			seenBefore = seenBefore && want[e.ID]
		}
		status := http.StatusAccepted
		switch {
		case err != nil: // a key twice (events' corpus table names the file): refused, nothing forwarded
			status = http.StatusBadRequest
			malformed++
		case skip:
			ignored++
		default:
			rec := integrations.Record{ID: id, Vendor: v, Active: true, Scans: []string{"sast"}, Pipeline: true}
			all, _ := events.Orchestrate(rec, evs)
			for _, e := range all {
				want[e.ID] = true
			}
		}
		extra := map[string]string{}
		for k := range h {
			extra[k] = h.Get(k)
		}
		resp, _ := do(t, signed(t, base+v.ReceiverPath(id), v, v.DefaultScheme(), secretFor(id), body, extra))
		dup := resp.Header.Get("X-Hookgate-Duplicate")
		if resp.StatusCode != status && !(status == http.StatusAccepted && seenBefore && resp.StatusCode == http.StatusOK && dup == "true") {
			t.Fatalf("%s: %d, want %d (duplicate: %q)", rel, resp.StatusCode, status, dup)
		}
	}
	t.Logf("%d files from %s (corpus: %v): %d events expected, %d deliveries ignored, %d malformed", len(files), root, fromEnv, len(want), ignored, malformed)
	if len(want) < len(files)/2 {
		t.Fatalf("only %d events from %d files: the run proves little", len(want), len(files))
	}
	eventually(t, 90*time.Second, "every corpus event at the finding service", func() bool { return len(fs.snapshot()) >= len(want) })
	time.Sleep(300 * time.Millisecond) // let a stray extra delivery show up before counting
	got := fs.snapshot()
	for id := range want {
		if got[id] != 1 {
			t.Errorf("event %s acknowledged %d times", id, got[id])
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("unexpected event %s", id)
		}
	}
}

package events_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
	"github.com/hookgate/caddy-hookgate/integrations"
)

// digest is the delivery id Identify gives for one too long or not
// printable: `sha256:` and the hex of the first 16 bytes of its SHA-256.
func digest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// TestIdentifyLongDeliveryIDs: Standard Webhooks ids (GitLab's signing
// tokens send webhook-id) over 256 bytes, and ids that are not printable,
// are hashed, not dropped: two deliveries of one body whose ids differ
// only in their last byte stay two deliveries, with two dedupe keys.
func TestIdentifyLongDeliveryIDs(t *testing.T) {
	body := []byte(`{"object_kind":"push","ref":"refs/heads/main"}`)
	long := strings.Repeat("msg_", 75) // 300 bytes
	ids := []string{long[:299] + "a", long[:299] + "b"}
	var got [2]Identity
	for i, id := range ids {
		h := http.Header{}
		h.Set("X-Gitlab-Event", "Push Hook")
		h.Set("Webhook-Id", id)
		got[i] = Identify(integrations.GitLab, integrations.SchemeSigning, h, body)
		if got[i].Delivery != digest(id) || len(got[i].Delivery) != 39 || got[i].Event != "Push Hook" {
			t.Fatalf("Identify(webhook-id %d bytes) = %+v, want delivery %s", len(id), got[i], digest(id))
		}
	}
	if got[0].Delivery == got[1].Delivery {
		t.Fatalf("distinct ids collapse into %q", got[0].Delivery)
	}
	if DeliveryKey("gl", got[0].Delivery, body) == DeliveryKey("gl", got[1].Delivery, body) {
		t.Fatal("distinct ids give one dedupe key")
	}

	h := http.Header{}
	h.Set("X-Gitlab-Event", "Push Hook\x00")
	h.Set("Webhook-Id", "msg_\x01")
	if id := Identify(integrations.GitLab, integrations.SchemeSigning, h, body); id != (Identity{Delivery: digest("msg_\x01")}) {
		t.Errorf("not printable: %+v (the event is dropped, the delivery id hashed)", id)
	}
	h.Set("Webhook-Id", strings.Repeat("x", 256))
	if id := Identify(integrations.GitLab, integrations.SchemeSigning, h, body); id.Delivery != strings.Repeat("x", 256) {
		t.Errorf("an id of 256 bytes is kept as it is: %+v", id)
	}
}

// TestIdentifyTemplateExactNames: the template's event and delivery are
// read from exactly those names, as the normalizers read names; a value of
// the wrong type drops only itself, a body that is not JSON all of them.
func TestIdentifyTemplateExactNames(t *testing.T) {
	for body, want := range map[string]Identity{
		`{"event":"build","delivery":"d-1"}`:        {Event: "build", Delivery: "d-1"},
		`{"EVENT":"deploy","Delivery":"d-2"}`:       {Event: "build"},
		`{"event":5,"delivery":"d-3"}`:              {Event: "build", Delivery: "d-3"},
		`{"event":"build","delivery":{"id":"d-4"}}`: {Event: "build"},
		`{"event":"deploy","delivery":"d-5"} x`:     {Event: "build"},
		`event=deploy`:                              {Event: "build"},
	} {
		if got := Identify(integrations.Jenkins, integrations.Jenkins.DefaultScheme(), nil, []byte(body)); got != want {
			t.Errorf("Identify(%s) = %+v, want %+v", body, got, want)
		}
	}
}

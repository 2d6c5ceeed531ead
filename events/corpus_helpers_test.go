package events

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/caddy-hookgate/internal/payloads"
)

// payloadRoot is $HOOKGATE_CORPUS or the payloads written for hookgate.
func payloadRoot(t testing.TB) (dir string, fromEnv bool) {
	t.Helper()
	dir, fromEnv, err := payloads.Root()
	if err != nil {
		t.Fatal(err)
	}
	return dir, fromEnv
}

// payloadFiles lists the payload files under dir.
func payloadFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := payloads.Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var testReceived = time.Date(2025, 3, 4, 18, 0, 0, 0, time.UTC)

// fileDelivery builds the delivery a vendor would have sent with the file's
// body (headers from payloads.Headers); the identity is what Identify reads.
func fileDelivery(t testing.TB, rel string, body []byte) Delivery {
	t.Helper()
	v, h, err := payloads.Headers(rel, body)
	if err != nil {
		t.Fatal(err)
	}
	folder, _, _ := strings.Cut(rel, "/")
	id := Identify(v, v.DefaultScheme(), h, body)
	return Delivery{
		Vendor:      v,
		Integration: "it-" + folder,
		Header:      h,
		Body:        bytes.Clone(body),
		Identity:    id,
		DeliveryKey: DeliveryKey("it-"+folder, id.Delivery, body),
		Signature:   "valid",
		Via:         "webhook",
		ReceivedAt:  testReceived,
	}
}

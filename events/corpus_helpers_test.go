package events_test

import (
	"testing"

	. "github.com/hookgate/caddy-hookgate/events"
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

// testReceived is when the test deliveries were received.
var testReceived = payloads.Received

// fileDelivery builds the delivery a vendor would have sent with the file's
// body (headers from payloads.Headers); the identity is what Identify reads.
func fileDelivery(t testing.TB, rel string, body []byte) Delivery {
	t.Helper()
	d, err := payloads.Delivery(rel, body)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

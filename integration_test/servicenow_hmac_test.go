package integration_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/hookgate/caddy-hookgate/internal/testredis"
	"github.com/hookgate/caddy-hookgate/internal/testvault"
)

// snGenerateMac signs as ServiceNow's
// GlideCertificateEncryption.generateMac(key, 'HmacSHA256', payload) is
// documented to: key base64-decoded into the HMAC key, the MAC base64.
// Written from that description, not from hookgate's signer.
func snGenerateMac(t *testing.T, key string, payload []byte) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatalf("generateMac: key is not base64: %v", err)
	}
	m := hmac.New(sha256.New, raw)
	m.Write(payload)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestServiceNowHMACWithBase64KeyEndToEnd: the operator's whole path
// through real Caddy and Vault. regenerate answers the secret and, for
// ServiceNow hmac, the base64 value to store in the hookgate.key property;
// a business rule signing with generateMac over that property is
// verified, and one whose property holds the raw secret is refused 401.
func TestServiceNowHMACWithBase64KeyEndToEnd(t *testing.T) {
	vault := testvault.Start(t)
	redisAddr, prefix := testredis.Shared(t)
	const id = "sn-hmac-e2e"
	putRecord(t, vault, id, map[string]any{"vendor": "servicenow", "scheme": "hmac"})
	c := startLifecycle(t, vault, redisAddr, prefix)
	rot := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/regenerate", nil, http.StatusOK)
	secret, _ := rot.body["secret"].(string)
	paste, _ := rot.body["paste"].(map[string]any)
	property, _ := paste["value"].(string)
	if secret == "" || property == "" || property == secret {
		t.Fatalf("regenerate answered no paste value for servicenow hmac: %s", rot.raw)
	}
	if rev := c.call(t, http.MethodPost, "/hookgate/integrations/"+id+"/webhook/reveal", nil, http.StatusOK); !bytes.Contains([]byte(rev.raw), []byte(property)) {
		t.Fatalf("reveal answers no paste value: %s", rev.raw)
	}
	post := func(n int, key string) int {
		body := fmt.Appendf(nil, `{"event":"incident.updated","number":"INC00%d","sys_id":"e2e%d","state":"2","previous_state":"1","sys_updated_on":"2026-12-03 10:00:0%d"}`, n, n, n)
		req, err := http.NewRequest(http.MethodPost, c.base+"/webhooks/servicenow/"+id, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-ServiceNow-Signature", snGenerateMac(t, key, body))
		resp, _ := do(t, req)
		return resp.StatusCode
	}
	if got := post(1, property); got/100 != 2 {
		t.Fatalf("generateMac with the pasted base64 key: %d, want 2xx", got)
	}
	if got := post(2, secret); got != http.StatusUnauthorized {
		t.Fatalf("generateMac with the raw secret as the key: %d, want 401", got)
	}
}

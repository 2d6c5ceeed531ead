package verifiers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// The verify benchmarks stand beside plain HMAC over the same bytes: the
// target is Verify within 1.2× of RawHMAC.

func benchBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func benchVerifyGitHub(b *testing.B, n int) {
	body := benchBody(n)
	sec := secrets(testSecret)
	d := signedDelivery(b, pair{integrations.GitHub, integrations.SchemeHMAC}, testSecret, body, testNow)
	b.ReportAllocs()
	b.SetBytes(int64(n))
	b.ResetTimer()
	for b.Loop() {
		if !verifiers.Verify(integrations.GitHub, integrations.SchemeHMAC, d, body, sec).OK() {
			b.Fatal("not valid")
		}
	}
}

func benchRawHMAC(b *testing.B, n int) {
	body := benchBody(n)
	key := []byte(testSecret)
	m := hmac.New(sha256.New, key)
	m.Write(body)
	want := m.Sum(nil)
	b.ReportAllocs()
	b.SetBytes(int64(n))
	b.ResetTimer()
	for b.Loop() {
		m := hmac.New(sha256.New, key)
		m.Write(body)
		if !hmac.Equal(m.Sum(nil), want) {
			b.Fatal("not equal")
		}
	}
}

func benchCheckPooled(b *testing.B, n int) {
	body := benchBody(n)
	sec := secrets(testSecret)
	d := signedDelivery(b, pair{integrations.GitHub, integrations.SchemeHMAC}, testSecret, body, testNow)
	var c verifiers.Check
	b.ReportAllocs()
	b.SetBytes(int64(n))
	b.ResetTimer()
	for b.Loop() {
		c.Reset(integrations.GitHub, integrations.SchemeHMAC, d, sec)
		c.Write(body)
		if !c.Verdict().OK() {
			b.Fatal("not valid")
		}
	}
}

// BenchmarkVerifyGitHub8KiB is Verify of a GitHub delivery with an 8 KiB body.
func BenchmarkVerifyGitHub8KiB(b *testing.B) { benchVerifyGitHub(b, 8<<10) }

// BenchmarkRawHMAC8KiB is hmac.New, Write, Sum and hmac.Equal over 8 KiB.
func BenchmarkRawHMAC8KiB(b *testing.B) { benchRawHMAC(b, 8<<10) }

// BenchmarkVerifyGitHub64KiB is Verify of a GitHub delivery with a 64 KiB body.
func BenchmarkVerifyGitHub64KiB(b *testing.B) { benchVerifyGitHub(b, 64<<10) }

// BenchmarkRawHMAC64KiB is hmac.New, Write, Sum and hmac.Equal over 64 KiB.
func BenchmarkRawHMAC64KiB(b *testing.B) { benchRawHMAC(b, 64<<10) }

// BenchmarkCheckPooledGitHub8KiB reuses one Check with the same secret:
// Reset, Write, Verdict, as the handler's pool does.
func BenchmarkCheckPooledGitHub8KiB(b *testing.B) { benchCheckPooled(b, 8<<10) }

// BenchmarkCheckPooledGitHub64KiB is the pooled path over 64 KiB.
func BenchmarkCheckPooledGitHub64KiB(b *testing.B) { benchCheckPooled(b, 64<<10) }

// BenchmarkVerifyGitHubRotation8KiB verifies against current and previous
// secrets: two MACs over the body.
func BenchmarkVerifyGitHubRotation8KiB(b *testing.B) {
	body := benchBody(8 << 10)
	sec := verifiers.Secrets{Current: []byte(testSecret), Previous: []byte(testPrev)}
	d := signedDelivery(b, pair{integrations.GitHub, integrations.SchemeHMAC}, testPrev, body, testNow)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if vd := verifiers.Verify(integrations.GitHub, integrations.SchemeHMAC, d, body, sec); !vd.Previous {
			b.Fatal("not valid by previous")
		}
	}
}

// BenchmarkVerifyStandardWebhooks8KiB is a GitLab signing delivery.
func BenchmarkVerifyStandardWebhooks8KiB(b *testing.B) {
	body := benchBody(8 << 10)
	sec := secrets(testSecret)
	d := signedDelivery(b, pair{integrations.GitLab, integrations.SchemeSigning}, testSecret, body, testNow)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !verifiers.Verify(integrations.GitLab, integrations.SchemeSigning, d, body, sec).OK() {
			b.Fatal("not valid")
		}
	}
}

// BenchmarkVerifyBearer is a token compare: no body work.
func BenchmarkVerifyBearer(b *testing.B) {
	sec := secrets(testSecret)
	d := signedDelivery(b, pair{integrations.AzureDevOps, integrations.SchemeBearer}, testSecret, nil, testNow)
	b.ReportAllocs()
	for b.Loop() {
		if !verifiers.Verify(integrations.AzureDevOps, integrations.SchemeBearer, d, nil, sec).OK() {
			b.Fatal("not valid")
		}
	}
}

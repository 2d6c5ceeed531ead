package verifiers_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

// Native fuzz targets for every parser of attacker-controlled bytes. Their
// seeds run as regression tests with plain `go test`; crashers found by
// `go test -fuzz` are kept under testdata/fuzz.

// FuzzParseMethodHex fuzzes the GitHub/Bitbucket/Jira "<method>=<hex>"
// parser and the hex digest decoder against encoding/hex.
func FuzzParseMethodHex(f *testing.F) {
	for _, s := range []string{
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"SHA256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17",
		"sha1=0123456789abcdef0123456789abcdef01234567",
		"sha512=" + strings.Repeat("ab", 64),
		"sha256=", "=", "", "sha256", "sha256==00", "md5=00", "sha256=zz" + strings.Repeat("0", 62),
		"sha256=" + strings.Repeat("0", 63) + "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a, digest, ok := verifiers.ParseMethodHex(v)
		if !ok {
			if strings.Contains(v, "=") {
				t.Fatalf("%q has '=' but did not parse", v)
			}
			return
		}
		if !strings.HasSuffix(v, digest) {
			t.Fatalf("digest %q is not the tail of %q", digest, v)
		}
		var dst [verifiers.MaxDigestLen]byte
		for _, size := range []int{a.Size(), 20, 32, 64, 65, 0} {
			if verifiers.DecodeHexDigest(&dst, digest, size) {
				want, err := hex.DecodeString(digest)
				if err != nil || len(want) != size || string(dst[:size]) != string(want) {
					t.Fatalf("decodeHexDigest(%q, %d) disagrees with hex.DecodeString", digest, size)
				}
			}
		}
	})
}

// FuzzStandardWebhooksHeaders fuzzes the webhook-signature list and
// webhook-timestamp parsers.
func FuzzStandardWebhooksHeaders(f *testing.F) {
	sig := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	f.Add(sig, "1614265330")
	f.Add(sig+" "+sig, "0")
	f.Add("v1a,"+sig[3:]+" v2,x", "+1")
	f.Add(strings.Repeat(sig+" ", 17), "99999999999999999999")
	f.Add("v1,", "")
	f.Add("   ", "-1")
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=", "1614265330 ")
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE\n", "٣")
	f.Fuzz(func(t *testing.T, list, ts string) {
		var dst [verifiers.MaxSignatures][32]byte
		n, reason := verifiers.ParseSignatureList(list, &dst)
		if reason != "" && n != 0 {
			t.Fatalf("reason %q with %d signatures", reason, n)
		}
		if n < 0 || n > verifiers.MaxSignatures {
			t.Fatalf("%d signatures", n)
		}
		if reason == "" && n == 0 {
			t.Fatal("no signature and no reason")
		}
		for i := 0; i < n; i++ {
			if !strings.Contains(list, "v1,"+base64.StdEncoding.EncodeToString(dst[i][:])) {
				t.Fatalf("signature %d was not in the list", i)
			}
		}
		if u, ok := verifiers.ParseTimestamp(ts); ok {
			if u < 0 || len(ts) > verifiers.MaxTimestampDigits || strings.Trim(ts, "0123456789") != "" {
				t.Fatalf("parseTimestamp accepted %q as %d", ts, u)
			}
			if !verifiers.WithinWindow(u, u, 0) || !verifiers.WithinWindow(u+300, u, 0) || verifiers.WithinWindow(u+301, u, 0) || verifiers.WithinWindow(u-301, u, 0) {
				t.Fatalf("window around %d is wrong", u)
			}
		}
	})
}

// FuzzAuthorization fuzzes Bearer and Basic Authorization parsing: a value
// verifies only if net/http would read the secret out of it too.
func FuzzAuthorization(f *testing.F) {
	const secret = "s3cret:token"
	for _, s := range []string{
		"Bearer " + secret, "bearer  " + secret + " ", "Bearer", "Bearer ", " Bearer x", "Basic",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("hookgate:"+secret)),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(secret)),
		"Basic " + base64.RawStdEncoding.EncodeToString([]byte("u:"+secret)),
		"Basic ====", "Basic \r\n", "Digest a=b", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Authorization": {v}}
		sec := secrets(secret)
		for _, p := range []pair{{integrations.ServiceNow, integrations.SchemeBearer}, {integrations.AzureDevOps, integrations.SchemeBasic}} {
			vd := verifiers.Verify(p.v, p.s, verifiers.Delivery{Header: h}, nil, sec)
			checkReason(t, vd, verifiers.Delivery{Header: h}, sec)
			if !vd.OK() {
				continue
			}
			// Valid only when the credential, read the way net/http reads
			// it, carries the secret.
			word, cred, _ := strings.Cut(verifiers.TrimOWS(v), " ")
			cred = verifiers.TrimOWS(cred)
			switch p.s {
			case integrations.SchemeBearer:
				if !strings.EqualFold(word, "bearer") || cred != secret {
					t.Fatalf("bearer accepted %q", v)
				}
			case integrations.SchemeBasic:
				r := &http.Request{Header: http.Header{"Authorization": {"Basic " + cred}}}
				_, pw, ok := r.BasicAuth()
				if !strings.EqualFold(word, "basic") || !ok || pw != secret {
					t.Fatalf("basic accepted %q", v)
				}
			}
		}
	})
}

// FuzzQueryToken fuzzes the query token extraction against url.ParseQuery.
func FuzzQueryToken(f *testing.F) {
	for _, s := range []string{
		"token=abc", "token=a&token=b", "%74oken=x", "token=%zz", "token=", "token", "a=1&token=a%2Bb+c",
		"&&token=x&&", "token=x;y", "%zz=1&token=x", "to%6Ben=1&token=2", "+token=x", "token=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, missing, reason := verifiers.QueryToken(raw)
		switch {
		case reason != "" && (tok != "" || missing),
			missing && tok != "",
			reason == "" && !missing && tok == "":
			t.Fatalf("inconsistent result %q %v %q", tok, missing, reason)
		}
		// Where the standard library parses the query without complaint,
		// a token we return is the one it finds, and it finds exactly one.
		q, err := url.ParseQuery(raw)
		if err != nil || len(raw) > verifiers.MaxCredentialBytes {
			return
		}
		vals := q["token"]
		switch {
		case tok != "":
			if len(vals) != 1 || vals[0] != tok {
				t.Fatalf("queryToken(%q) = %q, url.ParseQuery has %q", raw, tok, vals)
			}
		case len(vals) > 1:
			if reason != verifiers.ReasonDuplicateCredential {
				t.Fatalf("queryToken(%q): %d tokens but reason %q", raw, len(vals), reason)
			}
		case len(vals) == 1 && vals[0] != "":
			t.Fatalf("queryToken(%q) missed %q (missing=%v reason=%q)", raw, vals[0], missing, reason)
		}
	})
}

// fuzzSecret is drawn afresh each run, so no input can be tuned to it: a
// fuzzed credential that verifies is a bug.
var fuzzSecret = func() []byte {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return []byte("whsec_" + base64.StdEncoding.EncodeToString(b))
}()

// fuzzSeedOrder is the order integrations.Vendors() listed the nine vendors
// in when FuzzVerify was written. Its inputs pick a vendor by index (mod the
// list's length), so the order is fixed here rather than taken from the
// registry (now sorted by name): index 0 stays GitHub, 1 GitLab, and so on.
var fuzzSeedOrder = []integrations.Vendor{
	integrations.GitHub,
	integrations.GitLab,
	integrations.Jira,
	integrations.ServiceNow,
	integrations.ManageEngine,
	integrations.Jenkins,
	integrations.AzureDevOps,
	integrations.Bamboo,
	integrations.Bitbucket,
}

// fuzzVendors is FuzzVerify's vendor index: fuzzSeedOrder, then every other
// registered vendor sorted by name (a tenth vendor, the test-only ones).
func fuzzVendors() []integrations.Vendor {
	vs := slices.Clone(fuzzSeedOrder)
	for _, v := range integrations.Vendors() {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return vs
}

// fuzzHeaders is every header a rule of vendors reads a credential from,
// plus the ones the mechanics read themselves (Authorization, the Standard
// Webhooks signature), each once.
func fuzzHeaders(vendors []integrations.Vendor) []string {
	hs := []string{verifiers.HdrAuthorization, verifiers.HdrWebhookSignature}
	for _, v := range vendors {
		for _, s := range allSchemes {
			if r, ok := verifiers.RuleOf(v, s); ok && r.Header != "" && !slices.Contains(hs, r.Header) {
				hs = append(hs, r.Header)
			}
		}
	}
	return hs
}

// FuzzVerify puts one fuzzed value in every credential header, plus a fuzzed
// query and body, for any vendor and scheme: nothing panics, Check and
// Verify agree, and nothing verifies against a secret drawn at random.
func FuzzVerify(f *testing.F) {
	body := []byte(testBodyStr)
	vendors := fuzzVendors()
	for vi, v := range vendors {
		for si, s := range allSchemes {
			// Seeds are well-formed credentials under a fixed secret, so they
			// exercise the full path and still must not verify.
			h, q, err := verifiers.Sign(v, s, []byte(testSecret), body, testNow, "msg_seed")
			if err != nil {
				f.Add(uint8(vi), uint8(si), "", "", body)
				continue
			}
			for _, vals := range h {
				f.Add(uint8(vi), uint8(si), vals[0], q, body)
			}
			if q != "" {
				f.Add(uint8(vi), uint8(si), "", q, body)
			}
		}
	}
	headers := fuzzHeaders(vendors)
	f.Add(uint8(0), uint8(0), "sha256="+strings.Repeat("0", 64), "", []byte{})
	f.Add(uint8(1), uint8(3), strings.Repeat("v1,AAAA ", 20), "", []byte("x"))
	f.Fuzz(func(t *testing.T, vi, si uint8, value, query string, body []byte) {
		v := vendors[int(vi)%len(vendors)]
		s := allSchemes[int(si)%len(allSchemes)]
		if vi == 255 {
			v = "nosuch"
		}
		h := http.Header{}
		for _, k := range headers {
			h[k] = []string{value}
		}
		h[verifiers.HdrWebhookID] = []string{"msg_seed"}
		h[verifiers.HdrWebhookTimestamp] = []string{"1700000000"}
		d := verifiers.Delivery{Header: h, RawQuery: query, Now: testNow}
		sec := verifiers.Secrets{Current: fuzzSecret}
		vd := verifiers.Verify(v, s, d, body, sec)
		checkReason(t, vd, d, sec)
		if vd.OK() {
			t.Fatalf("%s/%s: a fuzzed credential verified: %q %q", v, s, value, query)
		}
		var c verifiers.Check
		c.Reset(v, s, d, sec)
		c.Write(body)
		if c.Verdict() != vd {
			t.Fatalf("Check and Verify disagree")
		}
	})
}

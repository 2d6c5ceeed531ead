// Command signcurl prints a ready-to-paste curl command that posts a body
// to a hookgate receiver, credentialed the way the vendor would (see
// verifiers.Sign). The secret comes from the environment variable named by
// -secret-env, so it never appears in shell history through this tool.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/verifiers"

	// The vendors this tool signs for register themselves on import.
	_ "github.com/hookgate/caddy-hookgate/vendors/all"
)

func main() {
	vendor := flag.String("vendor", "github", "vendor name")
	scheme := flag.String("scheme", "", "scheme (default: the vendor's)")
	url := flag.String("url", "http://127.0.0.1:8080/webhooks/ci/github/demo-gh", "receiver URL")
	file := flag.String("body", "", "file holding the JSON body")
	secretEnv := flag.String("secret-env", "DEMO_GH_SECRET", "environment variable holding the secret")
	flag.Parse()
	v := integrations.Vendor(*vendor)
	s := integrations.Scheme(*scheme)
	if s == "" {
		s = v.DefaultScheme()
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signcurl:", err)
		os.Exit(1)
	}
	h, query, err := verifiers.Sign(v, s, []byte(os.Getenv(*secretEnv)), body, time.Now(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "signcurl:", err)
		os.Exit(1)
	}
	target := *url
	if query != "" {
		target += "?" + query
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"curl -i -X POST", "'" + target + "'", "-H 'Content-Type: application/json'"}
	if v == integrations.GitHub {
		parts = append(parts, "-H 'X-GitHub-Event: push'", "-H 'X-GitHub-Delivery: demo-"+fmt.Sprint(time.Now().Unix())+"'")
	}
	for _, k := range keys {
		parts = append(parts, "-H '"+k+": "+h.Get(k)+"'")
	}
	parts = append(parts, "--data-binary @"+*file)
	fmt.Println(strings.Join(parts, " \\\n  "))
}

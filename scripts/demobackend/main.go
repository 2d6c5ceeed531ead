// Command demobackend stands in, in the local demo, for an existing webhook
// backend (it prints the X-Hookgate-* annotations and body size of each
// request) or, with -findings, for the finding service (it prints each
// normalized event it receives). It answers 200.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sort"
	"strings"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9100", "address to listen on")
	quiet := flag.Bool("quiet", false, "print nothing per request (for benchmarks)")
	findings := flag.Bool("findings", false, "act as the finding service: print each event")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if *quiet {
			w.WriteHeader(http.StatusOK)
			return
		}
		if *findings {
			var ev struct {
				Type   string         `json:"type"`
				Source map[string]any `json:"source"`
				CI     map[string]any `json:"ci"`
				Ticket map[string]any `json:"ticket"`
				Scan   map[string]any `json:"scan"`
			}
			_ = json.Unmarshal(body, &ev)
			fmt.Printf("finding service: %-22s key=%s source=%v ci=%v ticket=%v scan=%v\n",
				ev.Type, r.Header.Get("Idempotency-Key"), ev.Source["integration"], ev.CI, ev.Ticket, ev.Scan)
			w.WriteHeader(http.StatusOK)
			return
		}
		var ann []string
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Hookgate-") {
				ann = append(ann, k+"="+strings.Join(v, ","))
			}
		}
		sort.Strings(ann)
		fmt.Printf("backend: %s %s (%d bytes) %s\n", r.Method, r.URL.Path, len(body), strings.Join(ann, " "))
		w.WriteHeader(http.StatusOK)
	})
	log.Printf("demo backend listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// Command demobackend stands in for an existing webhook backend in the
// local demo: it prints what each request it receives carries from hookgate
// (the X-Hookgate-* annotations and the body size) and answers 200.
package main

import (
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
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if *quiet {
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

// Command testsummary reads `go test -json` output on stdin, prints each
// package result and the output of every failed or skipped test, and ends
// with one line "N passed, N failed, N skipped". It exits non-zero when
// anything failed, when a test was skipped (a skipped end-to-end test must
// never count as passing), or when no test ran at all.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json`.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	outputs := map[string]*strings.Builder{}
	var passed, failed, skipped int
	var bad []string
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // build errors and other plain lines
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			b := outputs[key]
			if b == nil {
				b = new(strings.Builder)
				outputs[key] = b
			}
			if b.Len() < 64<<10 {
				b.WriteString(e.Output)
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				if e.Action == "fail" {
					bad = append(bad, key)
					failed++
				}
				fmt.Printf("%-4s %s (%.1fs)\n", e.Action, e.Package, e.Elapsed)
				continue
			}
			if strings.Contains(e.Test, "/") {
				continue // count top-level tests; subtests show in their output
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				bad = append(bad, key)
			case "skip":
				skipped++
				bad = append(bad, key)
			}
		}
	}
	sort.Strings(bad)
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range bad {
		fmt.Printf("\n=== %s\n", k)
		for _, o := range keys { // the test's own output, then its subtests'
			if o == k || strings.HasPrefix(o, k+"/") {
				fmt.Print(outputs[o].String())
			}
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || skipped > 0 || passed == 0 {
		os.Exit(1)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"
)

func proxyURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/webhooks/ci/github/bench-gh", port)
}
func gateURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/webhooks/ci/github/bench-gh", port)
}

// pushOfSize is a GitHub push payload padded with commits to size bytes.
func pushOfSize(size int) []byte {
	type commit struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	push := struct {
		Ref        string            `json:"ref"`
		After      string            `json:"after"`
		Repository map[string]string `json:"repository"`
		Commits    []commit          `json:"commits"`
	}{Ref: "refs/heads/main", After: strings.Repeat("a", 40), Repository: map[string]string{"full_name": "acme/payments"}}
	for {
		b, _ := json.Marshal(push)
		if len(b) >= size {
			return b[:len(b):len(b)]
		}
		need := size - len(b) - 40
		msg := strings.Repeat("x", max(1, min(need, 200)))
		push.Commits = append(push.Commits, commit{ID: strings.Repeat("b", 40), Message: msg})
	}
}

func human(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(p int) error {
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("port %d never opened", p)
}

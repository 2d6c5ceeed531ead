package main

import (
	"fmt"
	"net"
	"time"
)

func proxyURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/webhooks/ci/github/bench-gh", port)
}
func gateURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/webhooks/ci/github/bench-gh", port)
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

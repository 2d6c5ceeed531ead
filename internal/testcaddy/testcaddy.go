// Package testcaddy runs a real Caddy process with hookgate for end-to-end
// tests: the xcaddy-built binary named by HOOKGATE_CADDY_BIN, or else one
// built once per test process from ./cmd/caddy. Each instance gets its own
// config file, data directories and log file; it is stopped when the test
// ends and can be killed mid-test.
package testcaddy

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Instance is one running Caddy process.
type Instance struct {
	// AdminAddr is host:port of the admin endpoint.
	AdminAddr string
	// LogPath is the file that receives the process's stdout and stderr
	// (Caddy's own log unless the config sends it elsewhere).
	LogPath string

	cmd     *exec.Cmd
	done    chan struct{}
	stopped sync.Once
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Binary returns the Caddy binary the tests run.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("HOOKGATE_CADDY_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "hookgate-caddy-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "caddy")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/caddy")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building caddy: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start writes caddyfile to a temporary directory and runs Caddy with it,
// with env added to the test's environment. The Caddyfile must set
// `admin <adminAddr>`; Start waits until the admin endpoint and every
// address in waitFor accept connections.
func Start(t testing.TB, adminAddr, caddyfile string, env []string, waitFor ...string) *Instance {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "caddy.out")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Binary(t), "run", "--config", cfg, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &Instance{AdminAddr: adminAddr, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(in.done)
	}()
	t.Cleanup(in.Stop)
	if err := in.waitReady(append([]string{adminAddr}, waitFor...)); err != nil {
		in.Stop()
		t.Fatalf("caddy did not start: %v\n%s", err, tail(in.Log(), 4000))
	}
	return in
}

func (in *Instance) waitReady(addrs []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		for {
			select {
			case <-in.done:
				return fmt.Errorf("process exited")
			default:
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: %w", addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	resp, err := http.Get("http://" + in.AdminAddr + "/config/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Stop ends the process gracefully, killing it after 10 seconds.
func (in *Instance) Stop() {
	in.stopped.Do(func() {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.done
		}
	})
}

// Kill ends the process with SIGKILL, as a crash would.
func (in *Instance) Kill() {
	in.stopped.Do(func() {
		_ = in.cmd.Process.Kill()
		<-in.done
	})
}

// Pid is the process id of the running Caddy (to read its
// /proc/<pid>/status, for example).
func (in *Instance) Pid() int { return in.cmd.Process.Pid }

// Log returns what the process has written so far.
func (in *Instance) Log() string {
	b, _ := os.ReadFile(in.LogPath)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// moduleRoot finds the directory of hookgate's go.mod from the working
// directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/hookgate/caddy-hookgate\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("hookgate module root not found above the working directory")
		}
		dir = parent
	}
}

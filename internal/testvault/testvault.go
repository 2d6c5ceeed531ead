// Package testvault runs a real HashiCorp Vault dev server for tests. It
// decides how a test obtains the Vault binary (HOOKGATE_VAULT_BIN, else
// scripts/ensure-vault.sh) and fails the test when Vault cannot be had: it
// never skips. It is never used outside tests.
package testvault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Module is the module whose scripts/ensure-vault.sh builds the binary.
const Module = "github.com/hookgate/caddy-hookgate"

// StartTimeout bounds how long Start waits for /v1/sys/health.
const StartTimeout = 60 * time.Second

// Server is a running Vault dev server: in-memory storage, unsealed, KV v2
// mounted at secret/.
type Server struct {
	// Addr is the server's URL, http://127.0.0.1:<port>.
	Addr string
	// RootToken is the dev server's root token (random per server).
	RootToken string
	// LogPath is the file holding the server's stdout and stderr.
	LogPath string

	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the Vault binary: $HOOKGATE_VAULT_BIN if set,
// else what scripts/ensure-vault.sh prints (it builds Vault once per
// machine and may take ten minutes the first time: run the first `go test`
// with -timeout 30m). ctx bounds the wait; the first call's answer is kept
// for the whole test binary.
func Binary(ctx context.Context) (string, error) {
	binOnce.Do(func() { binPath, binErr = findBinary(ctx) })
	return binPath, binErr
}

func findBinary(ctx context.Context) (string, error) {
	if bin := os.Getenv("HOOKGATE_VAULT_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("HOOKGATE_VAULT_BIN: %w", err)
		}
		return bin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "ensure-vault.sh")
	// Output goes to files, not pipes, and the script is never killed: a
	// build interrupted half-way would be lost for everyone. When ctx ends
	// first, the test stops waiting and the build goes on in the background.
	stdout, err := os.CreateTemp("", "ensure-vault-stdout-")
	if err != nil {
		return "", err
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	stderr, err := os.CreateTemp("", "ensure-vault-stderr-")
	if err != nil {
		return "", err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	cmd := exec.Command("bash", script)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return "", fmt.Errorf("%s: %w\n%s", script, err, tailFile(stderr.Name(), 40))
		}
	case <-ctx.Done():
		return "", fmt.Errorf("%s: still running (%w); the first build of Vault takes about ten minutes: rerun with go test -timeout 30m", script, ctx.Err())
	}
	out, err := os.ReadFile(stdout.Name())
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	bin := strings.TrimSpace(lines[len(lines)-1])
	if bin == "" {
		return "", fmt.Errorf("%s printed no path\n%s", script, tailFile(stderr.Name(), 40))
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return bin, nil
}

// moduleRoot walks up from the working directory to the directory whose
// go.mod declares Module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == Module {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", Module)
		}
		dir = parent
	}
}

// Start runs a Vault dev server on a free loopback port with a random root
// token and a temporary HOME, waits until /v1/sys/health answers, and stops
// it when the test ends. It fails the test if Vault cannot be obtained or
// does not start; it never skips.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx := context.Background()
	if deadline, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := deadline.Deadline(); ok {
			// Fail with a message before `go test -timeout` panics.
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
			defer cancel()
		}
	}
	bin, err := Binary(ctx)
	if err != nil {
		t.Fatalf("testvault: no Vault binary: %v", err)
	}
	var lastErr error
	for attempt := range 3 { // the free port may be taken between probe and bind
		s, err := start(t, bin, attempt)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("testvault: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string, attempt int) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	token := "root-" + randomHex(12)
	home := t.TempDir()
	logPath := filepath.Join(t.TempDir(), fmt.Sprintf("vault-%d.log", attempt))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	s := &Server{
		Addr:      fmt.Sprintf("http://127.0.0.1:%d", port),
		RootToken: token,
		LogPath:   logPath,
		exited:    make(chan struct{}),
	}
	s.cmd = exec.Command(bin, "server", "-dev",
		"-dev-root-token-id="+token,
		fmt.Sprintf("-dev-listen-address=127.0.0.1:%d", port),
		"-dev-no-store-token",
		"-log-level=warn",
	)
	s.cmd.Dir = home
	s.cmd.Env = cleanEnv(home)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()

	if err := s.waitHealthy(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\n--- tail of %s ---\n%s", err, logPath, tailFile(logPath, 30))
	}
	return s, nil
}

// waitHealthy polls /v1/sys/health until it answers 200 (initialized,
// unsealed, active) or the server exits or StartTimeout passes.
func (s *Server) waitHealthy() error {
	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.exited:
			return errors.New("vault exited before becoming healthy")
		default:
		}
		resp, err := client.Get(s.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vault not healthy after %s (last: %v)", StartTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and waits until it has exited, so its port refuses
// connections afterwards (to test Vault outages). It is idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		<-s.exited
	})
}

// Client returns a client authenticated with the root token.
func (s *Server) Client(t testing.TB) *api.Client {
	t.Helper()
	conf := api.DefaultConfig()
	if conf.Error != nil {
		t.Fatalf("testvault: %v", conf.Error)
	}
	conf.Address = s.Addr
	conf.AgentAddress = ""
	conf.MaxRetries = 0
	conf.Timeout = 10 * time.Second
	c, err := api.NewClient(conf)
	if err != nil {
		t.Fatalf("testvault: %v", err)
	}
	c.SetToken(s.RootToken)
	return c
}

// Put writes data as a new version at path under the KV v2 mount secret/,
// e.g. path "hookgate/integrations/demo".
func (s *Server) Put(t testing.TB, path string, data map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client(t).KVv2("secret").Put(ctx, path, data); err != nil {
		t.Fatalf("testvault: put %s: %v", path, err)
	}
}

// EnableAppRole enables the approle auth method (once per server), writes
// policy policyName allowing read, list, create and update on
// secret/data/hookgate/* and secret/metadata/hookgate/*, creates a role of
// the same name with that policy, and returns its role id and a new secret id.
func (s *Server) EnableAppRole(t testing.TB, policyName string) (roleID, secretID string) {
	t.Helper()
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	auths, err := c.Sys().ListAuthWithContext(ctx)
	if err != nil {
		t.Fatalf("testvault: list auth: %v", err)
	}
	if _, ok := auths["approle/"]; !ok {
		if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
			t.Fatalf("testvault: enable approle: %v", err)
		}
	}
	policy := `
path "secret/data/hookgate/*" {
  capabilities = ["create", "read", "update", "list"]
}
path "secret/metadata/hookgate/*" {
  capabilities = ["create", "read", "update", "list"]
}
`
	if err := c.Sys().PutPolicyWithContext(ctx, policyName, policy); err != nil {
		t.Fatalf("testvault: put policy: %v", err)
	}
	role := "auth/approle/role/" + policyName
	if _, err := c.Logical().WriteWithContext(ctx, role, map[string]any{
		"token_policies": policyName,
		"token_ttl":      "1h",
	}); err != nil {
		t.Fatalf("testvault: create role: %v", err)
	}
	r, err := c.Logical().ReadWithContext(ctx, role+"/role-id")
	if err != nil || r == nil {
		t.Fatalf("testvault: read role id: %v", err)
	}
	roleID, _ = r.Data["role_id"].(string)
	sec, err := c.Logical().WriteWithContext(ctx, role+"/secret-id", nil)
	if err != nil || sec == nil {
		t.Fatalf("testvault: create secret id: %v", err)
	}
	secretID, _ = sec.Data["secret_id"].(string)
	if roleID == "" || secretID == "" {
		t.Fatal("testvault: approle answered no ids")
	}
	return roleID, secretID
}

// cleanEnv is the environment without VAULT_* variables, with HOME set to
// home so the server touches nothing of the user's.
func cleanEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VAULT_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func tailFile(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return tail(string(b), lines)
}

package caddymodule

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/vendorapi"
	"github.com/hookgate/caddy-hookgate/verifiers"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "hookgate",
		Usage: "list|show|rotate|reveal|register|setup|send-test [<id>] [--admin <addr>]",
		Short: "Manages hookgate integrations through the admin API",
		Long: `
Calls hookgate's routes on the admin endpoint of a running Caddy and prints
their JSON answer. --admin names the endpoint (default: the CADDY_ADMIN
environment variable, else localhost:2019).

  list                          integration ids
  show <id>                     settings, has_secret, rotation state, receiver URL
  rotate <id> [--grace 24h]     new secret; the old one stays valid for grace ("0s": revoked)
  reveal <id>                   the current secret, read from Vault
  register <id>                 create or update the hook on the vendor
  setup <id> [--timeout 30s]    register, ask for a test delivery, wait until it arrives verified
  send-test <id> --secret-env VAR [--url <receiver base>]
                                sign a sample delivery with the secret in $VAR and post it

rotate and reveal print a secret: mind where the output goes.`,
		CobraFunc: hookgateCommand,
	})
}

// hookgateCommand builds `caddy hookgate` and its subcommands.
func hookgateCommand(cmd *cobra.Command) {
	cmd.PersistentFlags().String("admin", "", "admin endpoint address (default: $CADDY_ADMIN, else localhost:2019)")
	simple := func(name, short, method, route string, body func(*cobra.Command) (any, error)) *cobra.Command {
		return adminCommand(name, short, method, route, body, nil)
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Lists integration ids",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			out, err := adminCall(c, http.MethodGet, "/hookgate/integrations", nil)
			if err != nil {
				return err
			}
			return printJSON(c.OutOrStdout(), out)
		},
	}
	rotate := simple("rotate", "Regenerates the webhook secret", http.MethodPost, "/webhook/regenerate", func(c *cobra.Command) (any, error) {
		grace, _ := c.Flags().GetString("grace")
		return map[string]string{"grace": grace}, nil
	})
	rotate.Flags().String("grace", "24h", `how long the old secret stays valid ("0s" revokes it at once)`)
	setup := adminCommand("setup", "Registers the hook, asks for a test delivery and waits until it arrives verified", http.MethodPost, "/webhook/setup", func(c *cobra.Command) (any, error) {
		timeout, _ := c.Flags().GetString("timeout")
		return map[string]string{"timeout": timeout}, nil
	}, func(out any) error {
		if m, _ := out.(map[string]any); m["verified"] != true {
			return errors.New("setup did not verify a delivery")
		}
		return nil
	})
	setup.Flags().String("timeout", "30s", "how long to wait for the verified delivery")
	sendTest := &cobra.Command{
		Use:   "send-test <id> --secret-env VAR [--url <receiver base>]",
		Short: "Signs a sample delivery with the secret in an environment variable and posts it to the receiver",
		Args:  cobra.ExactArgs(1),
		RunE:  runSendTest,
	}
	sendTest.Flags().String("url", "", "receiver base URL, e.g. https://hooks.example.com (default: the integration's receiver_url)")
	sendTest.Flags().String("secret-env", "", "name of the environment variable holding the secret (never the secret itself)")
	cmd.AddCommand(
		list,
		simple("show", "Shows an integration without its secrets", http.MethodGet, "", nil),
		rotate,
		simple("reveal", "Prints the current secret, read from Vault", http.MethodPost, "/webhook/reveal", nil),
		simple("register", "Creates or updates the hook on the vendor", http.MethodPost, "/webhook/register", nil),
		setup,
		sendTest,
	)
}

// adminCommand is a subcommand taking one integration id that sends
// method to its route (body, when not nil, builds the JSON body) and
// prints the answer; check, when not nil, turns the answer into the exit
// status.
func adminCommand(name, short, method, route string, body func(*cobra.Command) (any, error), check func(any) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " <id>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var in any
			if body != nil {
				var err error
				if in, err = body(c); err != nil {
					return err
				}
			}
			out, err := adminCall(c, method, integrationURI(args[0])+route, in)
			if err != nil {
				return err
			}
			if err := printJSON(c.OutOrStdout(), out); err != nil {
				return err
			}
			if check != nil {
				c.SilenceUsage = true
				return check(out)
			}
			return nil
		},
	}
}

// integrationURI is the admin path of integration id; a malformed id is
// kept as one escaped path element, for the server to refuse.
func integrationURI(id string) string {
	return "/hookgate/integrations/" + url.PathEscape(id)
}

// adminAddress is --admin, else Caddy's default (CADDY_ADMIN, else
// localhost:2019).
func adminAddress(c *cobra.Command) string {
	if a, _ := c.Flags().GetString("admin"); a != "" {
		return a
	}
	return caddy.DefaultAdminListen
}

// adminCall sends one admin request and returns the decoded JSON answer.
func adminCall(c *cobra.Command, method, uri string, in any) (any, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	resp, err := caddycmd.AdminAPIRequest(adminAddress(c), method, uri, nil, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("reading the admin answer: %w", err)
	}
	return out, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// runSendTest signs the vendor's sample delivery with the secret from the
// named environment variable, under the integration's scheme, and posts it
// to the receiver. The secret is never a flag value, so it stays out of
// shell history and process listings.
func runSendTest(c *cobra.Command, args []string) error {
	c.SilenceUsage = true
	id := args[0]
	envName, _ := c.Flags().GetString("secret-env")
	if envName == "" {
		return errors.New("--secret-env is required: the name of an environment variable holding the secret")
	}
	secret := os.Getenv(envName)
	if secret == "" {
		return fmt.Errorf("environment variable %s is empty or not set", envName)
	}
	raw, err := adminCall(c, http.MethodGet, integrationURI(id), nil)
	if err != nil {
		return err
	}
	view, _ := raw.(map[string]any)
	vendor := integrations.Vendor(fmt.Sprint(view["vendor"]))
	scheme := integrations.Scheme(fmt.Sprint(view["effective_scheme"]))
	path, _ := view["receiver_path"].(string)
	target, _ := view["receiver_url"].(string)
	if base, _ := c.Flags().GetString("url"); base != "" {
		target = strings.TrimRight(base, "/") + path
	}
	if target == "" {
		return errors.New("no receiver URL: pass --url or set public_url")
	}
	req, err := sendTestRequest(vendor, scheme, []byte(secret), target, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text would repeat the URL, which may carry a token
		}
		return fmt.Errorf("posting to %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	out := map[string]any{
		"url":       target,
		"vendor":    vendor,
		"scheme":    scheme,
		"status":    resp.StatusCode,
		"duplicate": resp.Header.Get("X-Hookgate-Duplicate") == "true",
		"body":      string(answer),
	}
	if err := printJSON(c.OutOrStdout(), out); err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	return nil
}

// sendTestRequest builds the signed sample delivery of vendor to target:
// the sample vendor's package registered (vendorapi.SampleOf), a fresh
// delivery id in place of its placeholder, signed under scheme.
func sendTestRequest(vendor integrations.Vendor, scheme integrations.Scheme, secret []byte, target string, now time.Time) (*http.Request, error) {
	sample, ok := vendorapi.SampleOf(vendor)
	if !ok {
		return nil, fmt.Errorf("no send-test sample is registered for vendor %q", vendor)
	}
	var n [4]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, err
	}
	delivery := strconv.FormatUint(uint64(binary.BigEndian.Uint32(n[:])%900000000+100000000), 10)
	body := []byte(vendorapi.Fill(sample.Body, delivery, now))
	h, query, err := verifiers.Sign(vendor, scheme, secret, body, now, "")
	if err != nil {
		return nil, fmt.Errorf("signing for %s/%s: %w", vendor, scheme, err)
	}
	u := target
	if query != "" {
		if strings.Contains(u, "?") {
			u += "&" + query
		} else {
			u += "?" + query
		}
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("the receiver URL is malformed")
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	for k, v := range sample.Headers {
		req.Header.Set(k, vendorapi.Fill(v, delivery, now))
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/secretstore"
	"github.com/hookgate/caddy-hookgate/state"
	"github.com/hookgate/caddy-hookgate/vendorapi"
)

// The operator's side of an integration: list, view, settings, and the
// webhook secret's lifecycle (regenerate, reveal, register, setup). Every
// action that touches a secret or a vendor is logged and written to the
// admin audit stream with who asked (the remote address), never with a
// secret value.

// Defaults and bounds of the lifecycle routes.
const (
	defaultGrace        = 24 * time.Hour
	defaultSetupTimeout = 30 * time.Second
	maxSetupTimeout     = 5 * time.Minute
	// vendorCallTimeout bounds one register or test-delivery call.
	vendorCallTimeout = 30 * time.Second
	// setupPollInterval is how often setup reads the audit log.
	setupPollInterval = 200 * time.Millisecond
)

// vendorClient calls vendor APIs for register and setup.
var vendorClient = &http.Client{Timeout: vendorCallTimeout}

func apiError(status int, format string, args ...any) error {
	return caddy.APIError{HTTPStatus: status, Err: fmt.Errorf(format, args...)}
}

// The routes below are in AdminAPI.Routes. Their patterns are more
// specific than /hookgate/integrations/ (the audit route), so the admin
// mux sends these paths here and .../events there.

// listIntegrations serves GET /hookgate/integrations.
func (a *AdminAPI) listIntegrations(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return apiError(http.StatusMethodNotAllowed, "method not allowed")
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	ids := app.static.IDs()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	if app.vault != nil {
		stored, err := app.vault.vault.List(r.Context())
		if err != nil {
			return apiError(http.StatusServiceUnavailable, "listing Vault: %w", err)
		}
		for _, id := range stored {
			if !seen[id] {
				ids = append(ids, id)
			}
		}
	}
	return writeAdminJSON(w, map[string]any{"integrations": nonNil(ids)})
}

// integration serves GET and PUT /hookgate/integrations/{id}.
func (a *AdminAPI) integration(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !integrations.ValidID(id) {
		return apiError(http.StatusNotFound, "malformed integration id")
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		rec, static, err := app.freshRecord(r.Context(), id)
		if err != nil {
			return err
		}
		return writeAdminJSON(w, app.view(rec, static))
	case http.MethodPut:
		return app.updateSettings(w, r, id)
	}
	return apiError(http.StatusMethodNotAllowed, "method not allowed")
}

// webhook serves POST /hookgate/integrations/{id}/webhook/{action}.
func (a *AdminAPI) webhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !integrations.ValidID(id) {
		return apiError(http.StatusNotFound, "malformed integration id")
	}
	action := r.PathValue("action")
	handlers := map[string]func(*App, http.ResponseWriter, *http.Request, string) error{
		"regenerate": (*App).regenerate,
		"reveal":     (*App).reveal,
		"register":   (*App).register,
		"setup":      (*App).setup,
	}
	h, ok := handlers[action]
	if !ok {
		return apiError(http.StatusNotFound, "no such route")
	}
	if r.Method != http.MethodPost {
		return apiError(http.StatusMethodNotAllowed, "method not allowed")
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	return h(app, w, r, id)
}

// freshRecord reads id's record from its source: the config for a static
// integration (static true), else Vault itself, never the cache.
func (a *App) freshRecord(ctx context.Context, id string) (integrations.Record, bool, error) {
	if rec, err := a.static.Fetch(ctx, id); err == nil {
		return rec, true, nil
	}
	if a.vault == nil {
		return integrations.Record{}, false, apiError(http.StatusNotFound, "integration %s not found", id)
	}
	rec, err := a.vault.vault.Fetch(ctx, id)
	return rec, false, storeError(id, err)
}

// vaultRecord is freshRecord for the routes that write Vault: a static
// integration is refused with 409, since the config owns it.
func (a *App) vaultRecord(ctx context.Context, id string) (integrations.Record, error) {
	rec, static, err := a.freshRecord(ctx, id)
	if err == nil && static {
		return rec, apiError(http.StatusConflict, "integration %s is static: the Caddy config owns it, change it there", id)
	}
	return rec, err
}

// storeError maps a Vault error to the admin answer. The errors name the
// Vault path and never a value.
func storeError(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, secretstore.ErrNotFound):
		return apiError(http.StatusNotFound, "integration %s not found", id)
	case errors.Is(err, secretstore.ErrInvalid), errors.Is(err, integrations.ErrInvalidRecord):
		return apiError(http.StatusConflict, "integration %s: the stored record is invalid: %w", id, err)
	}
	return apiError(http.StatusServiceUnavailable, "secret store unavailable: %w", err)
}

// view is a record as GET shows it: its settings, whether it has a
// secret, the rotation state and where the vendor posts, and never a
// secret or API token value (those fields have json:"-").
func (a *App) view(rec integrations.Record, static bool) map[string]any {
	raw, _ := json.Marshal(rec)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	delete(v, "previous_valid_until")
	v["has_secret"] = rec.HasSecret()
	v["has_api_token"] = rec.APIToken != ""
	v["effective_scheme"] = string(rec.EffectiveScheme())
	v["previous_valid_until"] = nil
	v["previous_active"] = rec.PreviousActive(time.Now())
	if !rec.PreviousValidUntil.IsZero() && rec.PreviousSecret != "" {
		v["previous_valid_until"] = rec.PreviousValidUntil.UTC().Format(time.RFC3339)
	}
	v["static"] = static
	path := rec.Vendor.ReceiverPath(rec.ID)
	v["receiver_path"] = path
	v["receiver_url"] = ""
	if base := a.publicURL(); base != "" {
		v["receiver_url"] = base + path
	}
	return v
}

// publicURL is the app's public_url with placeholders resolved and no
// trailing slash.
func (a *App) publicURL() string {
	return strings.TrimRight(caddy.NewReplacer().ReplaceAll(a.PublicURL, ""), "/")
}

// receiverURL is where the vendor posts rec's deliveries; "" without a
// public_url.
func (a *App) receiverURL(rec integrations.Record) string {
	base := a.publicURL()
	if base == "" {
		return ""
	}
	return base + rec.Vendor.ReceiverPath(rec.ID)
}

// updateSettings serves PUT /hookgate/integrations/{id}: the body's
// settings merged onto the record in Vault (created when there is none),
// validated as a whole, written as a new version. The secret is untouched.
func (a *App) updateSettings(w http.ResponseWriter, r *http.Request, id string) error {
	var settings map[string]any
	if err := readAdminJSON(r, &settings, false); err != nil {
		return err
	}
	if a.vault == nil {
		if _, err := a.static.Fetch(r.Context(), id); err == nil {
			return apiError(http.StatusConflict, "integration %s is static: the Caddy config owns it, change it there", id)
		}
		return apiError(http.StatusConflict, "no vault block: integrations can only be written to Vault")
	}
	current := map[string]any{}
	rec, err := a.vaultRecord(r.Context(), id)
	var apiErr caddy.APIError
	created := false
	switch {
	case err == nil:
		current = rec.Data(time.Now())
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound:
		created = true
	default:
		return err
	}
	merged, err := integrations.MergeSettings(current, settings)
	if err != nil {
		return apiError(http.StatusBadRequest, "%w", err)
	}
	updated, err := integrations.FromData(id, merged, 0)
	if err != nil {
		return apiError(http.StatusBadRequest, "%w", err)
	}
	version, err := a.vault.vault.Write(r.Context(), id, merged)
	if err != nil {
		a.adminAudit(r, "update", id, "failed: "+err.Error())
		return apiError(http.StatusServiceUnavailable, "secret store unavailable: %w", err)
	}
	updated.Version = version
	a.invalidate(r.Context(), id)
	a.adminAudit(r, "update", id, fmt.Sprintf("version %d, settings %s", version, strings.Join(slices.Sorted(maps.Keys(settings)), ",")))
	if created {
		w.WriteHeader(http.StatusCreated)
	}
	return writeAdminJSON(w, a.view(updated, false))
}

// regenerate serves POST .../webhook/regenerate {"grace": "24h"}: a new
// secret becomes current, the old one stays valid for grace ("0s":
// revoked at once). The new secret is answered this once.
func (a *App) regenerate(w http.ResponseWriter, r *http.Request, id string) error {
	var req struct {
		Grace string `json:"grace"`
	}
	if err := readAdminJSON(r, &req, true); err != nil {
		return err
	}
	grace := defaultGrace
	if req.Grace != "" {
		d, err := caddy.ParseDuration(req.Grace)
		if err != nil || d < 0 {
			return apiError(http.StatusBadRequest, `grace must be a duration like "24h" or "0s"`)
		}
		grace = d
	}
	rec, err := a.vaultRecord(r.Context(), id)
	if err != nil {
		return err
	}
	secret, err := integrations.NewSecret(rec.Vendor, rec.EffectiveScheme())
	if err != nil {
		return apiError(http.StatusInternalServerError, "%w", err)
	}
	now := time.Now()
	data := rec.Data(now)
	delete(data, "previous_secret")
	delete(data, "previous_valid_until")
	data["secret"] = secret
	var until any
	if grace > 0 && rec.Secret != "" {
		u := now.Add(grace).UTC().Format(time.RFC3339)
		data["previous_secret"] = rec.Secret
		data["previous_valid_until"] = u
		until = u
	}
	if _, err := integrations.FromData(id, data, 0); err != nil {
		return apiError(http.StatusConflict, "%w", err)
	}
	version, err := a.vault.vault.Write(r.Context(), id, data)
	if err != nil {
		a.adminAudit(r, "regenerate", id, "failed: "+err.Error())
		return apiError(http.StatusServiceUnavailable, "secret store unavailable: %w", err)
	}
	a.invalidate(r.Context(), id)
	outcome := fmt.Sprintf("version %d, previous secret revoked", version)
	if until != nil {
		outcome = fmt.Sprintf("version %d, previous secret valid until %s", version, until)
	}
	a.adminAudit(r, "regenerate", id, outcome)
	return writeAdminJSON(w, map[string]any{"secret": secret, "previous_valid_until": until, "secret_version": version})
}

// reveal serves POST .../webhook/reveal: the current secret, read from
// Vault now (never the cache), in the body only.
func (a *App) reveal(w http.ResponseWriter, r *http.Request, id string) error {
	rec, err := a.vaultRecord(r.Context(), id)
	if err != nil {
		a.adminAudit(r, "reveal", id, "refused: "+err.Error())
		return err
	}
	if !rec.HasSecret() {
		a.adminAudit(r, "reveal", id, "refused: no secret")
		return apiError(http.StatusConflict, "integration %s has no secret; regenerate one", id)
	}
	a.adminAudit(r, "reveal", id, fmt.Sprintf("version %d", rec.Version))
	return writeAdminJSON(w, map[string]any{"secret": rec.Secret})
}

// registerAnswer is what register answers.
type registerAnswer struct {
	Registered  bool   `json:"registered"`
	HookID      string `json:"hook_id,omitempty"`
	Created     bool   `json:"created"`
	ManualSteps string `json:"manual_steps,omitempty"`
}

// registerHook creates or updates the hook on the vendor with the
// receiver URL and the current secret, read from the source (not the
// cache), so a rotation reaches the vendor.
func (a *App) registerHook(ctx context.Context, id string) (integrations.Record, registerAnswer, error) {
	rec, _, err := a.freshRecord(ctx, id)
	if err != nil {
		return rec, registerAnswer{}, err
	}
	res, err := vendorapi.Register(ctx, vendorClient, rec, vendorapi.Hook{URL: a.receiverURL(rec), Secret: rec.Secret})
	if err != nil {
		if errors.Is(err, vendorapi.ErrMissingSetting) || errors.Is(err, vendorapi.ErrBadSetting) {
			return rec, registerAnswer{}, apiError(http.StatusBadRequest, "%w", err)
		}
		return rec, registerAnswer{}, apiError(http.StatusBadGateway, "vendor API error: %w", err)
	}
	return rec, registerAnswer{Registered: res.Registered, HookID: res.HookID, Created: res.Created, ManualSteps: res.ManualSteps}, nil
}

// register serves POST .../webhook/register.
func (a *App) register(w http.ResponseWriter, r *http.Request, id string) error {
	_, ans, err := a.registerHook(r.Context(), id)
	if err != nil {
		a.adminAudit(r, "register", id, "failed: "+err.Error())
		return err
	}
	switch {
	case !ans.Registered:
		a.adminAudit(r, "register", id, "manual steps answered")
	case ans.Created:
		a.adminAudit(r, "register", id, "created hook "+ans.HookID)
	default:
		a.adminAudit(r, "register", id, "updated hook "+ans.HookID)
	}
	return writeAdminJSON(w, ans)
}

// setupAnswer is what setup answers.
type setupAnswer struct {
	Registered  bool   `json:"registered"`
	HookID      string `json:"hook_id,omitempty"`
	TestSent    bool   `json:"test_sent"`
	Verified    bool   `json:"verified"`
	Error       string `json:"error"`
	ManualSteps string `json:"manual_steps,omitempty"`
}

// setup serves POST .../webhook/setup {"timeout": "30s"}: register, ask
// the vendor for a test delivery where it can, then watch the
// integration's audit log for a delivery that arrived after the start: a
// verified one answers verified, a refused one its reason. Failures are
// answered 200 with the report; only a bad request is an HTTP error.
func (a *App) setup(w http.ResponseWriter, r *http.Request, id string) error {
	var req struct {
		Timeout string `json:"timeout"`
	}
	if err := readAdminJSON(r, &req, true); err != nil {
		return err
	}
	timeout := defaultSetupTimeout
	if req.Timeout != "" {
		d, err := caddy.ParseDuration(req.Timeout)
		if err != nil || d <= 0 || d > maxSetupTimeout {
			return apiError(http.StatusBadRequest, "timeout must be a duration between 0s and %s", maxSetupTimeout)
		}
		timeout = d
	}
	ctx := r.Context()
	start := time.Now()
	var out setupAnswer
	rec, ans, err := a.registerHook(ctx, id)
	var apiErr caddy.APIError
	if errors.As(err, &apiErr) && (apiErr.HTTPStatus == http.StatusNotFound || apiErr.HTTPStatus == http.StatusServiceUnavailable) {
		a.adminAudit(r, "setup", id, "failed: "+err.Error())
		return err
	}
	if err != nil {
		out.Error = err.Error()
		a.adminAudit(r, "setup", id, "failed: "+out.Error)
		return writeAdminJSON(w, out)
	}
	out.Registered, out.HookID, out.ManualSteps = ans.Registered, ans.HookID, ans.ManualSteps
	if ans.Registered {
		tctx, cancel := context.WithTimeout(ctx, vendorCallTimeout)
		sent, err := vendorapi.SendTest(tctx, vendorClient, rec, ans.HookID)
		cancel()
		if err != nil {
			out.Error = "vendor API error: asking for a test delivery: " + err.Error()
			a.adminAudit(r, "setup", id, "failed: "+out.Error)
			return writeAdminJSON(w, out)
		}
		out.TestSent = sent
	}
	out.Verified, out.Error = a.awaitDelivery(ctx, id, start, timeout)
	if !out.Verified && out.Error == "" {
		out.Error = fmt.Sprintf("no delivery seen within %s", timeout)
		if !out.TestSent {
			out.Error += fmt.Sprintf(" (%s cannot send a test delivery through its API: trigger one, e.g. a push, while setup waits)", rec.Vendor)
		}
	}
	outcome := "verified"
	if !out.Verified {
		outcome = "not verified: " + out.Error
	}
	a.adminAudit(r, "setup", id, outcome)
	return writeAdminJSON(w, out)
}

// awaitDelivery polls id's audit log until a delivery that arrived at or
// after start is there: accepted with a valid signature (verified), or
// rejected (its reason). It gives up after timeout with ("", false).
func (a *App) awaitDelivery(ctx context.Context, id string, start time.Time, timeout time.Duration) (bool, string) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(setupPollInterval)
	defer tick.Stop()
	for {
		accepted, rejected, err := a.state.deliveries.Audit(ctx, id)
		if err == nil {
			for _, e := range accepted {
				if !e.Time.Before(start) && e.Signature == "valid" {
					return true, ""
				}
			}
			for _, e := range rejected {
				if !e.Time.Before(start) {
					reason := strings.TrimPrefix(e.Reason, "signature invalid: ")
					if reason == "" {
						reason = e.Signature
					}
					return false, "delivery seen but signature invalid: " + reason
				}
			}
		}
		select {
		case <-ctx.Done():
			return false, "setup cancelled: " + ctx.Err().Error()
		case <-deadline.C:
			if err != nil {
				return false, "reading the audit log: " + err.Error()
			}
			return false, ""
		case <-tick.C:
		}
	}
}

// readAdminJSON decodes a bounded JSON object body into v; an empty body
// is allowed when optional.
func readAdminJSON(r *http.Request, v any, optional bool) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		return apiError(http.StatusBadRequest, "reading the body failed")
	}
	if len(raw) > maxAdminBody {
		return apiError(http.StatusRequestEntityTooLarge, "body too large")
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		if optional {
			return nil
		}
		return apiError(http.StatusBadRequest, "a JSON object body is required")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return apiError(http.StatusBadRequest, "body is not the expected JSON object") // not echoed: it may hold a token
	}
	return nil
}

// adminAudit logs an admin action and appends it to the admin audit
// stream. outcome must never hold a secret value.
func (a *App) adminAudit(r *http.Request, action, id, outcome string) {
	a.logger.Info("admin action",
		zap.String("who", r.RemoteAddr),
		zap.String("action", action),
		zap.String("integration", id),
		zap.String("outcome", outcome))
	a.recordAdmin(r.Context(), state.AdminEntry{
		Time: time.Now().UTC(), Who: r.RemoteAddr, Action: action, Integration: id, Outcome: outcome,
	})
}

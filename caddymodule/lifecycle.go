package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/hookgate/caddy-hookgate/admin"
	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/state"
)

// The operator's side of an integration on the admin endpoint: list, view,
// settings, and the webhook secret's lifecycle (regenerate, reveal,
// register, setup). The decisions are the admin package's; these routes
// read the request, call it, and turn its errors into statuses.

// vendorClient calls vendor APIs for register and setup.
var vendorClient = &http.Client{Timeout: admin.VendorCallTimeout}

func apiError(status int, format string, args ...any) error {
	return caddy.APIError{HTTPStatus: status, Err: fmt.Errorf(format, args...)}
}

// adminStatus is the admin answer to an error of the admin package.
func adminStatus(err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, admin.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, admin.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, admin.ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, admin.ErrUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(err, admin.ErrVendor):
		status = http.StatusBadGateway
	}
	return caddy.APIError{HTTPStatus: status, Err: err}
}

// adminService is the app's admin.Service: its records, its cache
// invalidation and reload, its audit log and admin log.
func (a *App) adminService() *admin.Service {
	s := &admin.Service{
		Static:     a.static,
		Deliveries: a.state.deliveries,
		Invalidate: a.invalidate,
		Log:        a.logAdmin,
		PublicURL:  strings.TrimRight(caddy.NewReplacer().ReplaceAll(a.PublicURL, ""), "/"),
		Client:     vendorClient,
		Now:        time.Now,
	}
	if a.vault != nil {
		s.Vault, s.Reload = a.vault.vault, a.reload
	}
	return s
}

// logAdmin logs an admin action and appends it to the admin log. Its
// outcome never holds a secret value (the admin package sees to it).
func (a *App) logAdmin(ctx context.Context, e state.AdminEntry) {
	a.logger.Info("admin action",
		zap.String("who", e.Who),
		zap.String("action", e.Action),
		zap.String("integration", e.Integration),
		zap.String("outcome", e.Outcome))
	a.recordAdmin(ctx, e)
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
	ids, err := app.adminService().List(r.Context())
	if err != nil {
		return adminStatus(err)
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
	svc := app.adminService()
	switch r.Method {
	case http.MethodGet:
		rec, static, err := svc.Fresh(r.Context(), id)
		if err != nil {
			return adminStatus(err)
		}
		return writeAdminJSON(w, svc.View(rec, static))
	case http.MethodPut:
		var settings map[string]any
		if err := readAdminJSON(r, &settings, false); err != nil {
			return err
		}
		view, created, err := svc.Update(r.Context(), r.RemoteAddr, id, settings)
		if err != nil {
			return adminStatus(err)
		}
		if created {
			w.WriteHeader(http.StatusCreated)
		}
		return writeAdminJSON(w, view)
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
	handlers := map[string]func(*admin.Service, http.ResponseWriter, *http.Request, string) error{
		"regenerate": regenerate,
		"reveal":     reveal,
		"register":   register,
		"setup":      setup,
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
	return h(app.adminService(), w, r, id)
}

// regenerate serves POST .../webhook/regenerate {"grace": "24h"}: a new
// secret becomes current, the old one stays valid for grace ("0s":
// revoked at once). The new secret is answered this once.
func regenerate(svc *admin.Service, w http.ResponseWriter, r *http.Request, id string) error {
	var req struct {
		Grace string `json:"grace"`
	}
	if err := readAdminJSON(r, &req, true); err != nil {
		return err
	}
	grace := admin.DefaultGrace
	if req.Grace != "" {
		d, err := caddy.ParseDuration(req.Grace)
		if err != nil || d < 0 {
			return apiError(http.StatusBadRequest, `grace must be a duration like "24h" or "0s"`)
		}
		grace = d
	}
	res, err := svc.Regenerate(r.Context(), r.RemoteAddr, id, grace)
	if err != nil {
		return adminStatus(err)
	}
	return writeAdminJSON(w, res)
}

// reveal serves POST .../webhook/reveal: the current secret, read from
// Vault now (never the cache), in the body only.
func reveal(svc *admin.Service, w http.ResponseWriter, r *http.Request, id string) error {
	revealed, err := svc.Reveal(r.Context(), r.RemoteAddr, id)
	if err != nil {
		return adminStatus(err)
	}
	return writeAdminJSON(w, revealed)
}

// register serves POST .../webhook/register.
func register(svc *admin.Service, w http.ResponseWriter, r *http.Request, id string) error {
	reg, err := svc.Register(r.Context(), r.RemoteAddr, id)
	if err != nil {
		return adminStatus(err)
	}
	return writeAdminJSON(w, reg)
}

// setup serves POST .../webhook/setup {"timeout": "30s"}: register, ask
// the vendor for a test delivery where it can, and wait for it. Failures
// are answered 200 with the report; only a bad request, an unknown
// integration or an unreachable store is an HTTP error.
func setup(svc *admin.Service, w http.ResponseWriter, r *http.Request, id string) error {
	var req struct {
		Timeout string `json:"timeout"`
	}
	if err := readAdminJSON(r, &req, true); err != nil {
		return err
	}
	timeout := admin.DefaultSetupTimeout
	if req.Timeout != "" {
		d, err := caddy.ParseDuration(req.Timeout)
		if err != nil || d <= 0 || d > admin.MaxSetupTimeout {
			return apiError(http.StatusBadRequest, "timeout must be a duration between 0s and %s", admin.MaxSetupTimeout)
		}
		timeout = d
	}
	report, err := svc.Setup(r.Context(), r.RemoteAddr, id, timeout)
	if err != nil {
		return adminStatus(err)
	}
	return writeAdminJSON(w, report)
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

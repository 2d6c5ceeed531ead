package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookgate/caddy-hookgate/integrations"
	"github.com/hookgate/caddy-hookgate/secretstore"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves hookgate's routes under /hookgate/ on Caddy's admin
// endpoint (localhost by default, so Caddy's own admin access controls
// apply): integrations and their secret lifecycle, audit entries, dead
// letters and the ticket poller's state.
type AdminAPI struct {
	ctx caddy.Context
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.hookgate",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision keeps the context to find the running hookgate app.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	return nil
}

// Routes returns the admin routes.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/hookgate/integrations/", Handler: caddy.AdminHandlerFunc(a.integrations)},
		{Pattern: "/hookgate/deadletter", Handler: caddy.AdminHandlerFunc(a.deadLetters)},
		{Pattern: "/hookgate/deadletter/redrive", Handler: caddy.AdminHandlerFunc(a.redrive)},
		{Pattern: "/hookgate/poller", Handler: caddy.AdminHandlerFunc(a.pollerStatus)},
		{Pattern: "/hookgate/integrations", Handler: caddy.AdminHandlerFunc(a.listIntegrations)},
		{Pattern: "/hookgate/integrations/{id}", Handler: caddy.AdminHandlerFunc(a.integration)},
		{Pattern: "/hookgate/integrations/{id}/webhook/{action}", Handler: caddy.AdminHandlerFunc(a.webhook)},
	}
}

// maxAdminBody bounds admin request bodies.
const maxAdminBody = 1 << 20

func (a *AdminAPI) app() (*App, error) {
	v, err := a.ctx.AppIfConfigured("hookgate")
	if err != nil || v == nil {
		return nil, caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: errors.New("hookgate is not running")}
	}
	return v.(*App), nil
}

// integrations serves /hookgate/integrations/{id}/events.
func (a *AdminAPI) integrations(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/hookgate/integrations/")
	id, sub, _ := strings.Cut(rest, "/")
	if !integrations.ValidID(id) || sub != "events" {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: errors.New("no such route")}
	}
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	if _, err := app.lookup(r.Context(), id); err != nil {
		if errors.Is(err, secretstore.ErrNotFound) {
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("integration %s not found", id)}
		}
		if !errors.Is(err, secretstore.ErrInvalid) {
			return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: errors.New("secret store unavailable")}
		}
	}
	accepted, rejected, err := app.state.deliveries.Audit(r.Context(), id)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("reading the audit log: %w", err)}
	}
	return writeAdminJSON(w, map[string]any{"accepted": nonNil(accepted), "rejected": nonNil(rejected)})
}

// deadLetters serves GET /hookgate/deadletter.
func (a *AdminAPI) deadLetters(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	dls, err := app.state.outbox.DeadLetters(r.Context(), 1000)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("reading dead letters: %w", err)}
	}
	type entry struct {
		ID        string          `json:"id"`
		Event     json.RawMessage `json:"event"`
		Attempts  int             `json:"attempts"`
		LastError string          `json:"last_error"`
		FailedAt  string          `json:"failed_at"`
	}
	out := make([]entry, 0, len(dls))
	for _, d := range dls {
		ev := json.RawMessage(d.Event)
		if !json.Valid(ev) {
			ev = json.RawMessage("null")
		}
		out = append(out, entry{ID: d.ID, Event: ev, Attempts: d.Attempts, LastError: d.LastError, FailedAt: d.FailedAt.UTC().Format("2006-01-02T15:04:05Z07:00")})
	}
	return writeAdminJSON(w, map[string]any{"entries": out})
}

// redrive serves POST /hookgate/deadletter/redrive with {"ids": [...]}, or
// no body for all.
func (a *AdminAPI) redrive(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody))
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: errors.New("reading the body failed")}
	}
	if len(strings.TrimSpace(string(raw))) > 0 {
		if err := json.Unmarshal(raw, &req); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: errors.New(`body must be {"ids": [...]}`)}
		}
	}
	n, err := app.state.outbox.Redrive(r.Context(), req.IDs)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("redriving: %w", err)}
	}
	return writeAdminJSON(w, map[string]int{"redriven": n})
}

// pollerStatus serves GET /hookgate/poller: per integration the cursor,
// last success, last error and lease holder.
func (a *AdminAPI) pollerStatus(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	if app.poller == nil {
		return writeAdminJSON(w, map[string]any{"running": false, "integrations": []any{}})
	}
	st, err := app.poller.Status(r.Context())
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("reading poller state: %w", err)}
	}
	return writeAdminJSON(w, map[string]any{"running": true, "integrations": nonNil(st)})
}

func writeAdminJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Interface guards
var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)

package caddymodule

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// errCaddyLayout says that this Caddy keeps a loaded config's logs where
// fieldOf does not find them.
var errCaddyLayout = errors.New("this Caddy version keeps its loaded logging config where hookgate does not look for it")

// warnAccessLogs logs, once per config load, one warning for each log
// that a server routing to hookgate writes its access log to and that
// would record a credential hookgate receives (accessLogLeaks), naming
// the server, the log and the filter lines to add. Caddy's access log
// records each request as it arrived, before any handler runs, so
// hookgate's removing credentials cannot hide them there. When the check
// itself cannot run, the warning says so and names every line.
func (a *App) warnAccessLogs() {
	leaks, err := a.accessLogLeaks()
	if err != nil {
		all := accessLogLeak{leaked: a.logged, wrap: "json"}
		a.logger.Warn("could not check whether Caddy's access logs record the credentials hookgate receives; a server that routes to hookgate and writes an access log needs these filters in its log's format",
			zap.Error(err), zap.Strings("credentials", all.names()), zap.String("caddyfile", all.caddyfile()), zap.Any("json", all.json()))
		return
	}
	for _, l := range leaks {
		fields := []zap.Field{zap.String("server", l.server), zap.String("log", l.log),
			zap.Strings("credentials", l.names()), zap.String("caddyfile", l.caddyfile()), zap.Any("json", l.json())}
		if l.logCredentials {
			fields = append(fields, zap.Bool("log_credentials", true))
		}
		a.logger.Warn("Caddy's access log would record credentials hookgate receives (it logs each request as it arrived, before hookgate removes them): add the caddyfile lines to the format filter of the log block this server's site writes to (a bare `log` writes to the log named default; log0, log1, … are the Caddyfile's log blocks in order), or the json to that log's encoder", fields...)
	}
}

// accessLogLeaks finds, for every server of the http app that routes to
// hookgate and has access logs on, each log those access logs go to (by
// host, logger_names and the logs' include and exclude lists) whose
// encoder would write one of the credentials this config receives
// (leakedBy). Servers and logs sorted by name. No http app, or no
// credential to receive: none.
func (a *App) accessLogLeaks() ([]accessLogLeak, error) {
	if len(a.logged) == 0 {
		return nil, nil
	}
	raw, err := a.ctx.AppIfConfigured("http")
	if errors.Is(err, caddy.ErrNotConfigured) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the http app: %w", err)
	}
	httpApp, ok := raw.(*caddyhttp.App)
	if !ok {
		return nil, fmt.Errorf("the http app is a %T", raw)
	}
	cfg, ok := fieldOf[*caddy.Config](&a.ctx, "cfg")
	if !ok || cfg == nil || cfg.Logging == nil {
		return nil, errCaddyLayout
	}
	var out []accessLogLeak
	for _, name := range slices.Sorted(maps.Keys(httpApp.Servers)) {
		srv := httpApp.Servers[name]
		if srv.Logs == nil {
			continue
		}
		reach, ok := serverReach(srv)
		if !ok {
			continue
		}
		for _, logName := range logsReceiving(cfg.Logging.Logs, accessLoggerNames(srv.Logs, reach)) {
			enc, discards, err := logEncoder(cfg.Logging.Logs[logName])
			if err != nil {
				return nil, err
			}
			if discards {
				continue
			}
			leaked, err := leakedBy(enc, a.logged, srv.Logs.ShouldLogCredentials)
			if err != nil {
				return nil, fmt.Errorf("log %s: %w", logName, err)
			}
			if len(leaked) > 0 {
				out = append(out, newAccessLogLeak(name, logName, enc, leaked, srv.Logs.ShouldLogCredentials))
			}
		}
	}
	return out, nil
}

// logEncoder is cl's encoder, and whether cl discards what it is given
// (output discard).
func logEncoder(cl *caddy.CustomLog) (zapcore.Encoder, bool, error) {
	w, okW := fieldOf[caddy.WriterOpener](&cl.BaseLog, "writerOpener")
	enc, okE := fieldOf[zapcore.Encoder](&cl.BaseLog, "encoder")
	if !okW || !okE || enc == nil {
		return nil, false, errCaddyLayout
	}
	switch w.(type) {
	case *caddy.DiscardWriter, caddy.DiscardWriter:
		return nil, true, nil
	}
	return enc, false, nil
}

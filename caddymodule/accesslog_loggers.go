package caddymodule

import (
	"maps"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// accessLoggerPrefix names every access logger: http.log.access, or
// http.log.access.<name> for a server's logger_names and
// default_logger_name.
const accessLoggerPrefix = "http.log.access"

// accessLoggerNames are the loggers a server with these logs settings
// writes the access log of a request that reaches hookgate to, by full
// name: those of the hosts r names (their logger_names, or the default
// logger unless skipped), or for any host every logger it names and the
// default one unless skip_unmapped_hosts. Sorted, each once.
func accessLoggerNames(logs *caddyhttp.ServerLogConfig, r hookgateReach) []string {
	set := map[string]bool{}
	if r.anyHost {
		for _, names := range logs.LoggerNames {
			for _, n := range names {
				set[n] = true
			}
		}
		if !logs.SkipUnmappedHosts {
			set[logs.DefaultLoggerName] = true
		}
	}
	for _, h := range r.hosts {
		for _, n := range hostLoggerNames(logs, h) {
			set[n] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		if n == "" {
			out = append(out, accessLoggerPrefix)
		} else {
			out = append(out, accessLoggerPrefix+"."+n)
		}
	}
	slices.Sort(out)
	return out
}

// hostLoggerNames are the logger names Caddy picks for a request to host:
// those mapped to the host itself or the first wildcard form of it that is
// mapped; else none when skipped, else the default logger's.
func hostLoggerNames(logs *caddyhttp.ServerLogConfig, host string) []string {
	forms := wildcardForms(host)
	for _, f := range forms {
		if names, ok := logs.LoggerNames[f]; ok {
			return names
		}
	}
	if logs.SkipUnmappedHosts {
		return nil
	}
	for _, skip := range logs.SkipHosts {
		if slices.Contains(forms, strings.ToLower(skip)) {
			return nil
		}
	}
	return []string{logs.DefaultLoggerName}
}

// wildcardForms is host followed by the forms a wildcard pattern matching
// it can take, as Caddy tries them: *.b.c, *.*.c, *.*.*.
func wildcardForms(host string) []string {
	forms := []string{host}
	labels := strings.Split(host, ".")
	for i := range labels {
		if labels[i] == "" {
			continue
		}
		labels[i] = "*"
		forms = append(forms, strings.Join(labels, "."))
	}
	return forms
}

// logsReceiving names, sorted, the logs of the logging app that write
// entries of any of these loggers.
func logsReceiving(logs map[string]*caddy.CustomLog, loggers []string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(logs)) {
		for _, l := range loggers {
			if logAccepts(logs[name], l) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// logAccepts reports whether cl writes the entries of the logger named
// logger, by cl's include and exclude lists as Caddy applies them: no
// lists accept all; otherwise the longest namespace that contains the
// name decides, an include list must contain it, and `*` excludes every
// module's logger.
func logAccepts(cl *caddy.CustomLog, logger string) bool {
	if len(cl.Include) == 0 && len(cl.Exclude) == 0 {
		return true
	}
	name := logger + "."
	longest := func(namespaces []string) int {
		n := 0
		for _, ns := range namespaces {
			if strings.HasPrefix(name, ns+".") && len(ns) > n {
				n = len(ns)
			}
		}
		return n
	}
	accept := longest(cl.Include)
	if len(cl.Include) > 0 && accept == 0 {
		return false
	}
	if slices.Contains(cl.Exclude, "*") {
		return false
	}
	reject := longest(cl.Exclude)
	return accept > reject || (len(cl.Include) == 0 && reject == 0)
}

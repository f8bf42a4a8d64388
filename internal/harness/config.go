package harness

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Program is one [program:x] section. Extra lines (key=value) are appended
// verbatim; one whose key is set by default replaces that default.
type Program struct {
	Name    string
	Command string
	Extra   []string // e.g. "autorestart=false", "startsecs=0", "numprocs=2"
}

// Listener is one [eventlistener:x] section. Its stderr goes to
// <process name>.err in Supervisor.Dir.
type Listener struct {
	Name    string
	Command string
	Events  string   // e.g. "TICK_5" or "PROCESS_STATE"
	Env     []string // KEY=value pairs for environment=; SUPERVISOR_USERNAME/PASSWORD are added automatically
	Extra   []string
}

// Config describes a supervisord instance.
type Config struct {
	Programs  []Program
	Listeners []Listener
	Groups    map[string][]string // [group:g] programs=a,b
	Raw       string              // appended verbatim
	// LogLevel is supervisord's loglevel=; empty means info.
	LogLevel string
}

// MaxStopWait returns the longest stopwaitsecs of the programs and
// listeners (supervisord's default is 10 s): how long supervisord may wait
// for one of them to stop before it kills it.
func (c Config) MaxStopWait() time.Duration {
	longest := 10
	for _, extra := range c.extras() {
		for _, e := range extra {
			if k, v, ok := strings.Cut(e, "="); ok && strings.TrimSpace(k) == "stopwaitsecs" {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > longest {
					longest = n
				}
			}
		}
	}
	return time.Duration(longest) * time.Second
}

func (c Config) extras() [][]string {
	var out [][]string
	for _, p := range c.Programs {
		out = append(out, p.Extra)
	}
	for _, l := range c.Listeners {
		out = append(out, l.Extra)
	}
	return out
}

// kv is one key=value line of a section.
type kv struct{ key, value string }

// section renders [header] with defaults, overridden or extended by extra.
func section(header string, defaults []kv, extra []string) (string, error) {
	lines := slices.Clone(defaults)
	for _, e := range extra {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			return "", fmt.Errorf("[%s]: extra line %q is not key=value", header, e)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if i := slices.IndexFunc(lines, func(l kv) bool { return l.key == k }); i >= 0 {
			lines[i].value = v
		} else {
			lines = append(lines, kv{k, v})
		}
	}
	// Several processes of one program need distinct names (and log files,
	// see logBase).
	hasNumprocs := slices.ContainsFunc(lines, func(l kv) bool { return l.key == "numprocs" })
	hasName := slices.ContainsFunc(lines, func(l kv) bool { return l.key == "process_name" })
	if hasNumprocs && !hasName {
		lines = append(lines, kv{"process_name", "%(program_name)s_%(process_num)02d"})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\n", header)
	for _, l := range lines {
		if strings.ContainsAny(l.value, "\r\n") {
			return "", fmt.Errorf("[%s]: value of %s contains a line break", header, l.key)
		}
		fmt.Fprintf(&b, "%s=%s\n", l.key, l.value)
	}
	b.WriteString("\n")
	return b.String(), nil
}

// renderConfig returns the supervisord.conf for cfg in dir, with its
// socket at sock.
func renderConfig(cfg Config, dir, sock, user, pass string) (string, error) {
	level := cfg.LogLevel
	if level == "" {
		level = "info"
	}
	var b strings.Builder
	add := func(header string, defaults []kv, extra []string) error {
		s, err := section(header, defaults, extra)
		b.WriteString(s)
		return err
	}
	if err := add("unix_http_server", []kv{
		{"file", sock}, {"chmod", "0700"}, {"username", user}, {"password", pass},
	}, nil); err != nil {
		return "", err
	}
	if err := add("supervisord", []kv{
		{"nodaemon", "true"},
		{"logfile", dir + "/supervisord.log"},
		{"pidfile", dir + "/supervisord.pid"},
		{"childlogdir", dir},
		{"loglevel", level},
	}, nil); err != nil {
		return "", err
	}
	if err := add("rpcinterface:supervisor", []kv{
		{"supervisor.rpcinterface_factory", "supervisor.rpcinterface:make_main_rpcinterface"},
	}, nil); err != nil {
		return "", err
	}
	if err := add("supervisorctl", []kv{
		{"serverurl", "unix://" + sock}, {"username", user}, {"password", pass},
	}, nil); err != nil {
		return "", err
	}
	for _, p := range cfg.Programs {
		base := logBase(dir, p.Extra)
		if err := add("program:"+p.Name, []kv{
			{"command", p.Command},
			{"startsecs", "1"},
			{"stdout_logfile", base + ".out"},
			{"stderr_logfile", base + ".err"},
		}, p.Extra); err != nil {
			return "", err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Groups)) {
		if err := add("group:"+name, []kv{
			{"programs", strings.Join(cfg.Groups[name], ",")},
		}, nil); err != nil {
			return "", err
		}
	}
	for _, l := range cfg.Listeners {
		env := []string{"SUPERVISOR_USERNAME=" + user, "SUPERVISOR_PASSWORD=" + pass}
		env = append(env, l.Env...)
		envValue, err := environment(env)
		if err != nil {
			return "", fmt.Errorf("[eventlistener:%s]: %w", l.Name, err)
		}
		if err := add("eventlistener:"+l.Name, []kv{
			{"command", l.Command},
			{"events", l.Events},
			{"environment", envValue},
			{"stdout_logfile", logBase(dir, l.Extra) + ".out"},
			{"stderr_logfile", logBase(dir, l.Extra) + ".err"},
		}, l.Extra); err != nil {
			return "", err
		}
	}
	b.WriteString(cfg.Raw)
	return b.String(), nil
}

// logBase returns the log file path without extension: the process name,
// spelled with the expansions supervisord allows in log file names
// (%(process_name)s is not one of them).
func logBase(dir string, extra []string) string {
	for _, e := range extra {
		if k, _, _ := strings.Cut(e, "="); strings.TrimSpace(k) == "numprocs" {
			return dir + "/%(program_name)s_%(process_num)02d"
		}
	}
	return dir + "/%(program_name)s"
}

// environment renders KEY=value pairs in supervisord's environment= syntax:
// KEY="value",KEY2="value2". supervisord splits the line with Python's
// non-POSIX shlex (no escapes inside quotes), strips every leading and
// trailing quote character from a value, and expands %(name)s in it. So a
// value is double-quoted, or single-quoted when it contains '"', and '%' is
// doubled. Later pairs override earlier ones with the same key.
func environment(pairs []string) (string, error) {
	var keys []string
	values := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return "", fmt.Errorf("environment entry %q is not KEY=value", p)
		}
		if strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return "", fmt.Errorf("environment key %q: only letters, digits and _ are supported", k)
		}
		if _, seen := values[k]; !seen {
			keys = append(keys, k)
		}
		values[k] = v
	}
	var out []string
	for _, k := range keys {
		v := values[k]
		quote := `"`
		if strings.Contains(v, `"`) {
			quote = `'`
		}
		switch {
		case strings.Contains(v, `"`) && strings.Contains(v, `'`):
			return "", fmt.Errorf("environment value of %s: cannot hold both ' and \"", k)
		case strings.ContainsAny(v, "\r\n"):
			return "", fmt.Errorf("environment value of %s: contains a line break", k)
		case v != strings.Trim(v, `'"`):
			return "", fmt.Errorf("environment value of %s: supervisord strips leading and trailing quotes", k)
		}
		out = append(out, k+"="+quote+strings.ReplaceAll(v, "%", "%%")+quote)
	}
	return strings.Join(out, ","), nil
}

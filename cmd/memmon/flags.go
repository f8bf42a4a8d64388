package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/mailflags"
)

const description = "A supervisord event listener that restarts processes whose resident " +
	"memory (RSS) exceeds a limit, checked on every TICK event. " +
	"SIZE is a number of bytes, or a number with KB, MB or GB (powers of 1024, any case): 200MB, 1gb."

// grammar is the command line, option for option as superlance's memmon
// (getopt "hcp:g:a:s:m:n:u:"); -s and -m come with the mail options every
// tool shares.
// Sizes and times are plain strings, parsed afterwards, so that an error
// can name the option and the value exactly.
type grammar struct {
	Cumulative bool     `short:"c" name:"cumulative" help:"Count a process's RSS plus that of all its descendants."`
	Program    []string `short:"p" name:"program" sep:"none" placeholder:"NAME=SIZE" help:"Limit for a program, as name=SIZE or group:name=SIZE; SIZE may be a share of the machine's memory, as 25% (repeatable; a later NAME overrides)."`
	Group      []string `short:"g" name:"group" aliases:"groupname" sep:"none" placeholder:"GROUP=SIZE" help:"Limit for every process of a group, SIZE in bytes, KB, MB, GB or % of memory (repeatable)."`
	Any        string   `short:"a" name:"any" placeholder:"SIZE" help:"Limit for every process no other rule names, in bytes, KB, MB, GB or % of memory."`
	Over       int      `name:"over" default:"1" placeholder:"N" help:"Restart only after N ticks in a row over the limit; a tick under it starts the count again (default ${default}: the first tick over, as upstream)."`
	Uptime     string   `short:"u" name:"uptime" placeholder:"TIME" help:"Mail about a restart only when the process had been up at most this long (seconds, or a number with s, m, h or d)."`
	Name       string   `short:"n" name:"name" placeholder:"NAME" help:"Name shown in the mail subject: memmon [NAME]: ..."`

	// -m, -s and the SMTP options: every tool's mail options.
	Mail mailflags.Options `embed:""`
	// --details, --log-tail, --flood: every alerting tool's.
	Alert alertctx.Flags `embed:""`
	// --webhook, --alertmanager and their options: every alerting tool's.
	Channels alertflags.Options `embed:""`
}

// config is the validated command line.
type config struct {
	rules      rules
	cumulative bool
	mail       mailflags.Mail
	uptime     int64 // seconds; math.MaxInt64 when not given
	name       string
	alert      alertctx.Flags
	channels   *alertflags.Channels
	over       int     // --over N > 1: ticks in a row over the limit before a restart; 0 is upstream's first tick
	shares     []share // limits given as a share of memory, resolved at start
}

// share is a limit given in percent of the machine's memory (MemTotal);
// its bytes are known only once memmon runs on the machine.
type share struct {
	option string // "-p", "-g" or "-a"
	key    string // NAME or GROUP; "" for -a
	text   string // as given, for the log: "25%"
	pct    float64
}

// parseArgs parses and validates the command line. done reports that run
// must return code now (help printed or a usage error reported).
func parseArgs(args []string, stdout, stderr io.Writer, env []string) (cfg *config, code int, done bool) {
	if len(args) == 0 {
		// Upstream prints its usage and exits 255 here. A memmon line
		// without options is almost certainly a mistake in supervisord.conf,
		// so it stays an error, reported the way every usage error is.
		cli.Usagef(stderr, "memmon", "no options given: set a limit with -p, -g or -a")
		return nil, cli.ExitUsage, true
	}
	var g grammar
	kctx, code, done := cli.Parse("memmon", description, &g, args, stdout, stderr)
	if done {
		return nil, code, true
	}
	cfg, err := g.config(cli.Given(kctx), env)
	if err != nil {
		cli.Usagef(stderr, "memmon", "%v", err)
		return nil, cli.ExitUsage, true
	}
	return cfg, 0, false
}

// config validates g; given holds the names of the flags that appeared on
// the command line, so that -a "" is an error and not "no -a".
func (g *grammar) config(given map[string]bool, env []string) (*config, error) {
	cfg := &config{
		cumulative: g.Cumulative,
		uptime:     math.MaxInt64,
		name:       g.Name,
		alert:      g.Alert,
		rules: rules{
			programs: map[string]uint64{},
			groups:   map[string]uint64{},
		},
	}
	if g.Over < 1 {
		return nil, fmt.Errorf("--over %d: want 1 or more ticks in a row", g.Over)
	}
	if g.Over > 1 {
		// The zero config stays upstream's behaviour, as the fixtures build it.
		cfg.over = g.Over
	}
	var err error
	var shares map[string]share
	if cfg.rules.programs, shares, err = parseLimits("--program", g.Program); err != nil {
		return nil, err
	}
	cfg.shares = append(cfg.shares, sortedShares("-p", shares)...)
	if cfg.rules.groups, shares, err = parseLimits("--group", g.Group); err != nil {
		return nil, err
	}
	cfg.shares = append(cfg.shares, sortedShares("-g", shares)...)
	if given["any"] {
		if pct, ok, err := parseShare(g.Any); ok {
			if err != nil {
				return nil, fmt.Errorf("--any %q: %w", g.Any, err)
			}
			cfg.shares = append(cfg.shares, share{option: "-a", text: strings.TrimSpace(g.Any), pct: pct})
		} else if cfg.rules.any, err = parseSize(g.Any); err != nil {
			return nil, fmt.Errorf("--any %q: %w", g.Any, err)
		}
		cfg.rules.hasAny = true
	}
	if given["uptime"] {
		if cfg.uptime, err = parseUptime(g.Uptime); err != nil {
			return nil, fmt.Errorf("--uptime %q: %w", g.Uptime, err)
		}
	}
	if cfg.channels, err = g.Channels.Channels(); err != nil {
		return nil, err
	}
	if cfg.mail, err = g.Mail.Mail(given, env); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseLimits parses the NAME=SIZE values of -p or -g; a later NAME
// overrides an earlier one, as upstream's dict does. A SIZE in percent is
// returned among shares, with 0 bytes in limits until it is resolved.
func parseLimits(opt string, values []string) (map[string]uint64, map[string]share, error) {
	limits := make(map[string]uint64, len(values))
	shares := map[string]share{}
	for _, v := range values {
		name, size, ok := strings.Cut(v, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%s %q: want NAME=SIZE", opt, v)
		}
		if name == "" {
			return nil, nil, fmt.Errorf("%s %q: empty name", opt, v)
		}
		delete(shares, name)
		if pct, ok, err := parseShare(size); ok {
			if err != nil {
				return nil, nil, fmt.Errorf("%s %q: %w", opt, v, err)
			}
			shares[name] = share{key: name, text: strings.TrimSpace(size), pct: pct}
			limits[name] = 0
			continue
		}
		n, err := parseSize(size)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %q: %w", opt, v, err)
		}
		limits[name] = n
	}
	return limits, shares, nil
}

// parseShare reads a SIZE that ends in %: a share of the machine's memory,
// more than 0 and at most 100 percent, decimals allowed. ok reports that s
// is meant as a share at all.
func parseShare(s string) (pct float64, ok bool, err error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, false, nil
	}
	pct, err = strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(pct) || math.IsInf(pct, 0) {
		return 0, true, fmt.Errorf("invalid share %q (want a percentage of memory, as 25%%)", s)
	}
	if pct <= 0 || pct > 100 {
		return 0, true, fmt.Errorf("invalid share %q (a share of memory is above 0%% and at most 100%%)", s)
	}
	return pct, true, nil
}

// sortedShares lists the shares of one option in name order, for a log
// that reads the same at every start.
func sortedShares(option string, m map[string]share) []share {
	out := make([]share, 0, len(m))
	for _, sh := range m {
		sh.option = option
		out = append(out, sh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// resolveShares turns the limits given in percent into bytes of memTotal
// and returns one log line for each.
func (cfg *config) resolveShares(memTotal uint64) []string {
	var lines []string
	for _, sh := range cfg.shares {
		n := uint64(sh.pct / 100 * float64(memTotal))
		rule := sh.option + " " + sh.text
		switch sh.option {
		case "-p":
			cfg.rules.programs[sh.key] = n
			rule = "-p " + sh.key + "=" + sh.text
		case "-g":
			cfg.rules.groups[sh.key] = n
			rule = "-g " + sh.key + "=" + sh.text
		case "-a":
			cfg.rules.any = n
		}
		lines = append(lines, fmt.Sprintf("MemTotal is %d bytes: %s is %d bytes", memTotal, rule, n))
	}
	return lines
}

var sizeUnits = []struct {
	suffix string
	mult   uint64
}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}}

var errSize = errors.New("want bytes or a number with KB, MB or GB")

// parseSize reads a size the way supervisor's byte_size does: case does not
// matter, a kb, mb or gb suffix multiplies by a power of 1024, and the
// number is read like Python's int() (surrounding spaces, a + sign and _
// between digits are fine). Negative sizes, which upstream accepts and which
// would make every process "too big", are refused.
func parseSize(s string) (uint64, error) {
	text := strings.ToLower(s)
	mult := uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, mult = strings.TrimSuffix(text, u.suffix), u.mult
			break
		}
	}
	n, err := pyInt(text)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q (%w)", s, errSize)
	}
	if n.Sign() < 0 {
		return 0, fmt.Errorf("invalid size %q (a size cannot be negative)", s)
	}
	n.Mul(n, new(big.Int).SetUint64(mult))
	if !n.IsUint64() {
		return 0, fmt.Errorf("invalid size %q (too large)", s)
	}
	return n.Uint64(), nil
}

// parseUptime reads -u as upstream does: integer seconds, or an integer
// followed by s, m, h or d (any case). Negative values, which would make
// every restart mail-less, are refused.
func parseUptime(s string) (int64, error) {
	text := strings.ToLower(s)
	mult := int64(1)
	if text != "" {
		switch text[len(text)-1] {
		case 's':
			text = text[:len(text)-1]
		case 'm':
			text, mult = text[:len(text)-1], 60
		case 'h':
			text, mult = text[:len(text)-1], 3600
		case 'd':
			text, mult = text[:len(text)-1], 86400
		}
	}
	n, err := pyInt(text)
	if err != nil {
		return 0, errors.New("want seconds or a number with s, m, h or d")
	}
	if n.Sign() < 0 {
		return 0, errors.New("a time cannot be negative")
	}
	n.Mul(n, big.NewInt(mult))
	if !n.IsInt64() {
		return 0, errors.New("too large")
	}
	return n.Int64(), nil
}

// pyInt parses a decimal integer as Python's int() does: optional
// surrounding white space, an optional sign, digits with single
// underscores between them. Leading zeros are fine ("010" is 10).
func pyInt(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return nil, errors.New("not an integer")
	}
	clean := strings.ReplaceAll(digits, "_", "")
	for _, c := range clean {
		if c < '0' || c > '9' {
			return nil, errors.New("not an integer")
		}
	}
	n, _ := new(big.Int).SetString(clean, 10)
	if strings.HasPrefix(s, "-") {
		n.Neg(n)
	}
	return n, nil
}

// sortedLimits renders a limit map as upstream's log does: "a=1, b=2".
func sortedLimits(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

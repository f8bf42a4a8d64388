package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/mailflags"
	"github.com/superlance-go/superlance/internal/restart"
)

const name = "procmon"

const description = "A supervisord event listener that starts again the programs supervisord " +
	"leaves down (FATAL, or EXITED without autorestart), waiting longer after each instant death."

// grammar is procmon's command line. Durations are plain strings, parsed
// afterwards, so that an error names the option and the value exactly.
type grammar struct {
	Program   []string `short:"p" name:"program" sep:"none" placeholder:"NAME" help:"Keep this program up, by name or group:name (repeatable)."`
	Group     []string `short:"g" name:"group" sep:"none" placeholder:"GROUP" help:"Keep every program of this group up (repeatable)."`
	Any       bool     `short:"a" name:"any" help:"Keep every program up, except this listener."`
	Threshold string   `name:"threshold" default:"10" placeholder:"SECONDS" help:"A run shorter than this is an instant death (default ${default}; at least 3)."`
	MinDelay  string   `name:"min-delay" default:"1" placeholder:"SECONDS" help:"Delay before the restart after the first instant death (default ${default})."`
	MaxDelay  string   `name:"max-delay" default:"3600" placeholder:"SECONDS" help:"The delay doubles with every further instant death up to this (default ${default})."`
	Budget    string   `name:"budget" placeholder:"N/DURATION" help:"At most N restarts of all programs together in any window of DURATION, e.g. 20/10m (default: no limit)."`

	// -m, -s and the SMTP options, as every tool has them. Mail goes out
	// when a program enters a crash loop, recovers, or the budget is spent.
	Mail mailflags.Options `embed:""`
	// --details, --log-tail, --flood: every alerting tool's.
	Alert alertctx.Flags `embed:""`
	// --webhook, --alertmanager and their options: every alerting tool's.
	Channels alertflags.Options `embed:""`
}

// config is the validated command line.
type config struct {
	programs []string // -p, as given
	groups   []string // -g
	any      bool
	policy   restart.Policy
	budget   string // as given, for messages; "" when off
	max      int    // budget restarts; 0 when off
	window   time.Duration
	mail     mailflags.Mail // To is nil without -m
	alert    alertctx.Flags
	channels *alertflags.Channels
}

// parseArgs parses and validates the command line. done reports that run
// must return code now (help printed or a usage error reported).
func parseArgs(args []string, stdout, stderr io.Writer, env []string) (cfg *config, code int, done bool) {
	var g grammar
	kctx, code, done := cli.Parse(name, description, &g, args, stdout, stderr)
	if done {
		return nil, code, true
	}
	cfg, err := g.config(cli.Given(kctx), env)
	if err != nil {
		cli.Usagef(stderr, name, "%v", err)
		return nil, cli.ExitUsage, true
	}
	return cfg, 0, false
}

func (g *grammar) config(given map[string]bool, env []string) (*config, error) {
	cfg := &config{
		programs: g.Program,
		groups:   g.Group,
		any:      g.Any,
		alert:    g.Alert,
	}
	for _, list := range [][]string{g.Program, g.Group} {
		for _, n := range list {
			if strings.TrimSpace(n) == "" {
				return nil, errors.New("-p and -g need a non-empty name")
			}
		}
	}
	if !cfg.any && len(cfg.programs) == 0 && len(cfg.groups) == 0 {
		return nil, errors.New("nothing to watch: name programs with -p or -g, or all of them with -a")
	}
	var err error
	p := &cfg.policy
	if p.Threshold, err = duration("--threshold", g.Threshold); err != nil {
		return nil, err
	}
	if p.MinDelay, err = duration("--min-delay", g.MinDelay); err != nil {
		return nil, err
	}
	if p.MaxDelay, err = duration("--max-delay", g.MaxDelay); err != nil {
		return nil, err
	}
	if p.Threshold < restart.MinThreshold {
		return nil, fmt.Errorf("--threshold %s: must be at least %v: supervisord notices an exit, and sends its event, up to about a second late, so a program that dies at once can appear to have run over a second; a shorter threshold would reset the delay exactly when it must grow", g.Threshold, restart.MinThreshold)
	}
	if p.MinDelay > p.MaxDelay {
		return nil, fmt.Errorf("--min-delay %s is above --max-delay %s", g.MinDelay, g.MaxDelay)
	}
	if err := p.Validate(); err != nil {
		return nil, err // caught above in the user's words; kept for any later rule
	}
	if g.Budget != "" {
		if cfg.max, cfg.window, err = restart.ParseBudget(g.Budget); err != nil {
			return nil, fmt.Errorf("--budget %q: %w", g.Budget, err)
		}
		cfg.budget = g.Budget
	}
	if cfg.channels, err = g.Channels.Channels(); err != nil {
		return nil, err
	}
	if cfg.mail, err = g.Mail.Mail(given, env); err != nil {
		return nil, err
	}
	if cfg.mail.To != nil {
		// A recipient or From that could never be mailed is a start-up
		// error, not a failure at the first crash loop.
		if err := cfg.message("procmon: x is in a crash loop", "x").Validate(); err != nil {
			cfg.mail.Close()
			return nil, err
		}
	}
	return cfg, nil
}

func duration(option, value string) (time.Duration, error) {
	d, err := restart.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", option, err)
	}
	return d, nil
}

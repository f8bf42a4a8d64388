package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/episode"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

// notice is one report about one program as missingmail tells it: the
// alert value (kind, program, group, state, subject, text) and the start
// of the episode, which together with the program identifies the episode.
// A Missing alert holds until the Recovered alert of the same episode.
// The text of a notice is the body of the mail missingmail sends when it
// is the only one of its tick.
type notice struct {
	alert.Alert
	Since time.Time
	block string // the text without the closing note, for batch mails
}

// newNotice renders n.
func newNotice(n episode.Notice, cfg *config) notice {
	a := alert.Alert{
		Tool:    name,
		Program: n.Name,
		Group:   n.Group,
		State:   n.State.String(),
		Time:    n.At,
	}
	var block string
	switch n.Kind {
	case episode.Missing:
		a.Kind, a.Holds = alert.Missing, true
		a.Subject = fmt.Sprintf("%s is missing: not RUNNING for %s", n.Program, episode.Round(n.Down()))
		block = missingBlock(n)
		a.Text = block + "\n\n" + missingNote(cfg)
	case episode.Recovered:
		a.Kind, a.Ends = alert.Recovered, alert.Missing
		if n.State == rpcclient.StateRunning {
			a.Subject = fmt.Sprintf("%s is back: RUNNING after %s down", n.Program, episode.Round(n.Down()))
		} else {
			a.Subject = fmt.Sprintf("%s is no longer missing: %s after %s down", n.Program, n.State, episode.Round(n.Down()))
		}
		block = recoveredBlock(n)
		a.Text = block
	}
	return notice{Alert: a, Since: n.Since, block: block}
}

// missingBlock names the program, since when it is down, its state and
// what supervisord says about it.
func missingBlock(n episode.Notice) string {
	var b strings.Builder
	line := func(label, value string) { fmt.Fprintf(&b, "%-13s%s\n", label+":", value) }
	line("Program", n.Program)
	line("State", n.State.String())
	line("Down since", fmt.Sprintf("%s (%s ago)", stamp(n.Since), episode.Round(n.Down())))
	if in := n.Info; in == nil {
		line("Details", "none yet: supervisord has not answered getAllProcessInfo")
	} else {
		if in.Description != "" {
			line("Description", in.Description)
		}
		if in.SpawnErr != "" {
			line("Spawn error", in.SpawnErr)
		}
		if in.Stop > 0 {
			line("Exit status", exitStatus(in.ExitStatus))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func recoveredBlock(n episode.Notice) string {
	var b strings.Builder
	line := func(label, value string) { fmt.Fprintf(&b, "%-13s%s\n", label+":", value) }
	line("Program", n.Program)
	switch {
	case n.State != rpcclient.StateRunning:
		line("State", n.State.String()+" (stopped on purpose, which --ignore-stopped does not count)")
	case n.PID > 0:
		line("State", "RUNNING (pid "+strconv.Itoa(n.PID)+")")
	default:
		line("State", "RUNNING")
	}
	line("Down since", stamp(n.Since))
	if n.State == rpcclient.StateRunning {
		line("Back at", stamp(n.At))
	} else {
		line("Stopped at", stamp(n.At))
	}
	line("Down for", episode.Round(n.Down()).String())
	line("Reported at", stamp(n.Reported))
	return strings.TrimSuffix(b.String(), "\n")
}

func missingNote(cfg *config) string {
	if cfg.noRecovery {
		return "missingmail reports each episode once (--no-recovery: no mail when the program is back)."
	}
	return "missingmail reports each episode once; another mail follows when the program is RUNNING again."
}

// mailOf is the one mail of notices of one kind found together: the
// notice's own subject and text when it is alone, else one subject
// naming them all and their blocks in one body.
func mailOf(ns []notice, to []string, from string, cfg *config) *notify.Message {
	m := &notify.Message{To: to, From: from}
	if len(ns) == 1 {
		m.Subject, m.Body = ns[0].Subject, ns[0].Text
		return m
	}
	names := make([]string, len(ns))
	blocks := make([]string, len(ns))
	for i, n := range ns {
		names[i] = namespec(n.Group, n.Program)
		blocks[i] = n.block
	}
	var intro string
	if ns[0].Kind == alert.Missing {
		m.Subject = fmt.Sprintf("%d programs are missing: %s", len(ns), strings.Join(names, ", "))
		intro = fmt.Sprintf("These %d programs have not been RUNNING for %s or longer:", len(ns), episode.Round(cfg.timeout))
		blocks = append(blocks, missingNote(cfg))
	} else {
		m.Subject = fmt.Sprintf("%d programs are back: %s", len(ns), strings.Join(names, ", "))
		intro = fmt.Sprintf("These %d programs, reported missing, are no longer missing:", len(ns))
	}
	m.Body = intro + "\n\n" + strings.Join(blocks, "\n\n")
	return m
}

func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

func exitStatus(code int) string {
	if code == -1 {
		return "-1 (killed by a signal)"
	}
	return strconv.Itoa(code)
}

// stamp is a time in a mail: local time with its offset, to the second.
func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 -0700") }

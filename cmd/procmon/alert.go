package main

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/restart"
	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/notify"
)

// procmon's alerts are values of the one alert type every tool shares, so
// that they can be routed by kind: a crash loop is a condition that holds
// until the program recovers, and the recovery ends it.

func loopAlert(p *program, d restart.Death, state string, cfg *config) alert.Alert {
	n := p.namespec()
	return alert.Alert{
		Tool:    name,
		Kind:    alert.Restart,
		Holds:   true,
		Program: p.name,
		Group:   p.group,
		State:   state,
		Subject: "procmon: " + n + " is in a crash loop",
		Text: fmt.Sprintf("Process %s in group %s died %d times in a row within %s of starting; the last time it %s.\n"+
			"procmon restarts it after %s, and waits twice as long after every further instant death, up to %s.\n"+
			"You get one more mail when it has run for %s again.",
			p.name, p.group, d.Streak, round(cfg.policy.Threshold), p.last,
			round(d.Delay), round(cfg.policy.MaxDelay), round(cfg.policy.Threshold)),
	}
}

func recoveredAlert(p *program, cfg *config) alert.Alert {
	n := p.namespec()
	return alert.Alert{
		Tool:    name,
		Kind:    alert.Recovered,
		Ends:    alert.Restart,
		Program: p.name,
		Group:   p.group,
		State:   "RUNNING",
		Subject: "procmon: " + n + " recovered",
		Text: fmt.Sprintf("Process %s in group %s has run for %s after a crash loop; its restart delay is back to %s.",
			p.name, p.group, round(cfg.policy.Threshold), round(cfg.policy.MinDelay)),
	}
}

func budgetAlert(cfg *config, held, waiting []string, free time.Time) alert.Alert {
	var b strings.Builder
	fmt.Fprintf(&b, "procmon has restarted %d programs in the last %s (--budget %s) and restarts nothing more until %s, when the oldest of those restarts leaves the window; then it resumes by itself.\n",
		cfg.max, round(cfg.window), cfg.budget, free.Format("2006-01-02 15:04:05"))
	fmt.Fprintf(&b, "Left down: %s.", strings.Join(held, ", "))
	if len(waiting) > 0 {
		fmt.Fprintf(&b, "\nWaiting for their restart delay: %s.", strings.Join(waiting, ", "))
	}
	// A condition: it holds until a whole window passes without a refused
	// restart (budgetEndedAlert), the end of restart.Budget's episode.
	return alert.Alert{
		Tool:    name,
		Kind:    alert.Budget,
		Holds:   true,
		Subject: fmt.Sprintf("procmon: restart budget spent (%d restarts in %s)", cfg.max, round(cfg.window)),
		Text:    b.String(),
	}
}

// budgetEndedAlert ends the spent-budget condition. Nobody is mailed: the
// budget notice already said that procmon resumes by itself.
func budgetEndedAlert(cfg *config) alert.Alert {
	return alert.Alert{
		Tool:    name,
		Kind:    alert.Recovered,
		Ends:    alert.Budget,
		NoMail:  true,
		Subject: "procmon: restart budget no longer spent",
		Text:    fmt.Sprintf("procmon has refused no restart for %s (--budget %s).", round(cfg.window), cfg.budget),
	}
}

// deliverer logs every alert and hands it to the alert queue: mail when
// -m is set, webhooks, Alertmanager. The caller never waits on the
// network.
type deliverer struct {
	cfg     *config
	log     *log.Logger
	alerts  *alert.Queue
	mailing bool // -m is set
}

func (d *deliverer) deliver(a alert.Alert) {
	d.log.Printf("%s: %s", logName(a), a.Subject)
	if err := d.alerts.Send(a); err != nil {
		d.log.Printf("not mailing: %v", err)
		return
	}
	if d.mailing && !a.NoMail {
		d.log.Printf("Mailed:\n\n%s\n", superlance.Mailed(d.cfg.message(a.Subject, a.Text)))
	}
}

// logName names the alert in the log as Alertmanager would:
// ProcessCrashLoop, RestartBudgetSpent, ProcessRecovered.
func logName(a alert.Alert) string {
	if a.Kind == alert.Recovered {
		return "ProcessRecovered"
	}
	return a.Kind.AlertName()
}

// message is one mail to the -m addresses.
func (cfg *config) message(subject, body string) *notify.Message {
	return &notify.Message{To: cfg.mail.To, From: cfg.mail.From, Subject: subject, Body: body}
}

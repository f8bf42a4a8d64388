package mailflags

import (
	"errors"
	"maps"
)

// Delivery is Options without -m, for a tool whose recipients are an
// option of its own: missingmail's -m is required and repeatable, while
// superlance's -m, which Options keeps, is one value (the last one given
// wins). The same options, the same validation. Embed with `embed:""`.
type Delivery struct {
	Sendmail string `short:"s" name:"sendmail_program" aliases:"sendmail" default:"/usr/sbin/sendmail -t -i" placeholder:"COMMAND" help:"Mail command, run with /bin/sh -c, message on stdin (default \"${default}\"); not with --smtp-host."`
	From     string `name:"from" placeholder:"ADDRESS" help:"From address (with sendmail, the program's default sender when empty)."`
	SMTPHost string `name:"smtp-host" placeholder:"HOST[:PORT]" help:"Deliver over SMTP to this server (port 25, or 465 with --smtp-tls tls) instead of running the mail command."`
	SMTPUser string `name:"smtp-user" placeholder:"USER" help:"SMTP AUTH user name."`
	Shared   `embed:""`
}

// Mail validates d as Options.Mail does and builds its transport, for the
// recipients to, which the tool has split and checked (nil: nothing is
// mailed); given is as for Options.Mail.
func (d *Delivery) Mail(given map[string]bool, env []string, to []string) (Mail, error) {
	o := Options{Sendmail: d.Sendmail, From: d.From, SMTPHost: d.SMTPHost, SMTPUser: d.SMTPUser, Shared: d.Shared}
	o.Spool = "" // opened below, once the recipients are known
	// The tool's own -m is not Options' -m.
	g := maps.Clone(given)
	delete(g, "email")
	m, err := o.Mail(g, env)
	if err != nil {
		return Mail{}, err
	}
	m.To = to
	if to == nil {
		if d.Spool != "" {
			return Mail{}, errors.New("--spool needs recipients: without them nothing is mailed")
		}
		return m, nil
	}
	if !given["smtp-host"] {
		// Options.Mail warns only when it has recipients itself.
		if w := checkProgram(d.Sendmail); w != "" {
			m.Warnings = append(m.Warnings, w)
		}
	}
	if err := m.openSpool(d.Spool); err != nil {
		return Mail{}, err
	}
	return m, nil
}

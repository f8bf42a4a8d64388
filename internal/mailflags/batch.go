package mailflags

import (
	"errors"
	"fmt"
	"strings"
)

// BatchOptions are the mail options of crashmailbatch, fatalmailbatch and
// crashsms: superlance's optparse options (-t, -f, -H, -u, -p, --tls) as
// aliases of the shared long options, SMTP to localhost by default, and
// --sendmail[=CMD] to run a mail command instead. Embed with `embed:""`
// and pass the command line through RewriteSendmail first.
type BatchOptions struct {
	ToEmail  string `short:"t" name:"toEmail" required:"" placeholder:"TO_EMAILS" help:"Destination email address(es), comma separated."`
	From     string `short:"f" name:"from" aliases:"fromEmail" required:"" placeholder:"FROM_EMAIL" help:"Source email address (also --fromEmail)."`
	SMTPHost string `short:"H" name:"smtp-host" aliases:"smtpHost" default:"localhost" placeholder:"SMTP_HOST" help:"SMTP server: host or host:port (port 25, or 465 with --smtp-tls tls; also --smtpHost)."`
	SMTPUser string `short:"u" name:"smtp-user" aliases:"userName" placeholder:"SMTP_USER" help:"SMTP server user name (also --userName)."`
	Password string `short:"p" name:"password" placeholder:"SMTP_PASSWORD" help:"SMTP server password; prefer --smtp-password-file or --smtp-password-env, argv is visible to every local user."`
	TLS      bool   `name:"tls" help:"Require STARTTLS (the same as --smtp-tls starttls)."`
	Sendmail string `name:"sendmail" aliases:"sendmail-program" placeholder:"CMD" help:"Deliver by running CMD with /bin/sh -c (message on stdin) instead of SMTP; --sendmail alone runs '/usr/sbin/sendmail -t -i'."`
	Shared   `embed:""`

	// Spellings of earlier releases, still accepted.
	SMTPSSL     bool   `name:"smtp-ssl" hidden:"" help:"--smtp-tls tls."`
	TLSCACert   string `name:"tls-cacert" hidden:"" help:"--smtp-cacert."`
	TLSInsecure bool   `name:"tls-insecure" hidden:"" help:"--smtp-insecure."`
}

// BatchValueFlags are the options of BatchOptions that take a value, for
// RewriteSendmail; a command adds its own (-s, -i, -e).
var BatchValueFlags = []string{
	"-t", "-f", "-H", "-u", "-p", "--toEmail", "--from", "--fromEmail", "--smtp-host", "--smtpHost",
	"--smtp-user", "--userName", "--password", "--smtp-password-env", "--password-env",
	"--smtp-password-file", "--password-file", "--smtp-tls", "--smtp-cacert", "--tls-cacert",
	"--sendmail-program", "--spool",
}

// RewriteSendmail turns "--sendmail" without a value (which kong cannot
// express) into "--sendmail=" DefaultSendmail. valueFlags are the options
// that take a value, so that a value such as "-s --sendmail" is never
// mistaken for the option.
func RewriteSendmail(args []string, valueFlags []string) []string {
	takes := map[string]bool{}
	for _, f := range valueFlags {
		takes[f] = true
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--sendmail" {
			out = append(out, "--sendmail="+DefaultSendmail)
			continue
		}
		out = append(out, a)
		if takes[a] && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// Mail validates o and builds its transport; given is as for Options.Mail.
func (o *BatchOptions) Mail(given map[string]bool, env []string) (Mail, error) {
	s := settings{
		host:         o.SMTPHost,
		user:         o.SMTPUser,
		password:     o.Password,
		passwordEnv:  o.SMTPPasswordEnv,
		passwordFile: o.SMTPPasswordFile,
		tls:          o.SMTPTLS,
		caCert:       o.SMTPCACert,
		insecure:     o.SMTPInsecure || o.TLSInsecure,
		sendmailOpt:  "--sendmail",
		tlsOpt:       "--tls/--smtp-tls",
	}
	if o.TLSCACert != "" {
		if o.SMTPCACert != "" {
			return Mail{}, errors.New("--smtp-cacert and --tls-cacert are the same option: give it once")
		}
		s.caCert = o.TLSCACert
	}
	// --tls and --smtp-ssl are the older spellings of --smtp-tls.
	for _, alias := range []struct {
		set  bool
		name string
		mode string
	}{{o.TLS, "--tls", "starttls"}, {o.SMTPSSL, "--smtp-ssl", "tls"}} {
		if !alias.set {
			continue
		}
		if s.tls != "none" && s.tls != alias.mode {
			if given["smtp-tls"] {
				return Mail{}, fmt.Errorf("%s means --smtp-tls %s; it contradicts --smtp-tls %s", alias.name, alias.mode, s.tls)
			}
			return Mail{}, errors.New("--tls (STARTTLS) and --smtp-ssl (implicit TLS) exclude each other")
		}
		s.tls = alias.mode
	}
	if given["smtp-host"] && strings.TrimSpace(o.SMTPHost) == "" {
		return Mail{}, errors.New("--smtp-host (-H): empty host")
	}
	m := Mail{From: o.From}
	if strings.TrimSpace(o.From) == "" {
		return Mail{}, errors.New("--from (-f): empty address")
	}
	to, err := Recipients(o.ToEmail)
	if err != nil {
		return Mail{}, fmt.Errorf("--toEmail (-t): %w", err)
	}
	m.To = to
	if given["sendmail"] {
		if strings.TrimSpace(o.Sendmail) == "" {
			return Mail{}, errors.New("--sendmail: empty command (--sendmail alone runs " + DefaultSendmail + ")")
		}
		if given["smtp-host"] || o.SMTPUser != "" || o.Password != "" || s.passwordEnv != "" || s.passwordFile != "" ||
			s.tls != "none" || s.caCert != "" || s.insecure {
			return Mail{}, errors.New("--sendmail delivers without SMTP: drop the SMTP options (-H, -u, -p, --smtp-*, --tls)")
		}
		s.sendmail = o.Sendmail
	}
	if m.Transport, err = s.transport(env); err != nil {
		return Mail{}, err
	}
	if w := checkProgram(s.sendmail); w != "" {
		m.Warnings = append(m.Warnings, w)
	}
	if err := m.openSpool(o.Spool); err != nil {
		return Mail{}, err
	}
	return m, nil
}

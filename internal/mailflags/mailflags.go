// Package mailflags is the one mail configuration of every tool: the mail
// options to embed in a command's kong grammar, their validation at
// start-up, and the notify transport they describe.
//
// Every tool has the same long options (--smtp-host, --smtp-user,
// --smtp-password-env, --smtp-password-file, --smtp-tls, --smtp-cacert,
// --smtp-insecure, --from, --sendmail), and each keeps the short and long
// options its superlance original had as aliases: Options carries those of
// httpok, memmon and crashmail (-m, -s), BatchOptions those of
// crashmailbatch, fatalmailbatch and crashsms (-t, -f, -H, -u, -p, --tls).
package mailflags

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/secret"
	"github.com/superlance-go/superlance/notify"
)

// DefaultSendmail is superlance's mail command.
const DefaultSendmail = notify.DefaultSendmailCommand

// Shared holds the long options that no tool has a short form for. It is
// embedded in Options and BatchOptions.
type Shared struct {
	SMTPPasswordEnv  string `name:"smtp-password-env" aliases:"password-env" placeholder:"VAR" help:"Read the SMTP password from this environment variable."`
	SMTPPasswordFile string `name:"smtp-password-file" aliases:"password-file" placeholder:"FILE" help:"Read the SMTP password from the first line of this file."`
	SMTPTLS          string `name:"smtp-tls" enum:"none,starttls,tls" default:"none" placeholder:"MODE" help:"SMTP connection security: none, starttls (required, never a silent downgrade) or tls (implicit TLS, port 465 by default)."`
	SMTPCACert       string `name:"smtp-cacert" placeholder:"FILE" help:"Trust the CA certificates in this PEM file for SMTP TLS (certificates are always verified unless --smtp-insecure)."`
	SMTPInsecure     bool   `name:"smtp-insecure" help:"Do not verify the SMTP server's certificate."`
	Spool            string `name:"spool" placeholder:"DIR" help:"Keep queued mail in this directory (one per listener) until it is sent, also across a restart of the listener or the machine."`
}

// Options are the mail options of httpok, memmon, crashmail and the tools
// built like them: superlance's -m and -s, plus delivery over SMTP when
// --smtp-host is given. Embed with `embed:""`.
type Options struct {
	Email    string `short:"m" name:"email" placeholder:"ADDRESS" help:"Mail to this address (several: comma separated); without it nothing is mailed."`
	Sendmail string `short:"s" name:"sendmail_program" aliases:"sendmail" default:"/usr/sbin/sendmail -t -i" placeholder:"COMMAND" help:"Mail command, run with /bin/sh -c, message on stdin (default \"${default}\"); not with --smtp-host."`
	From     string `name:"from" placeholder:"ADDRESS" help:"From address (with sendmail, the program's default sender when empty)."`
	SMTPHost string `name:"smtp-host" placeholder:"HOST[:PORT]" help:"Deliver over SMTP to this server (port 25, or 465 with --smtp-tls tls) instead of running the mail command."`
	SMTPUser string `name:"smtp-user" placeholder:"USER" help:"SMTP AUTH user name."`
	Shared   `embed:""`
}

// Mail is a validated mail configuration.
type Mail struct {
	To        []string // nil: nothing is mailed
	From      string
	Transport notify.Transport
	// Warnings are facts worth a line on stderr at start-up that do not
	// stop the tool (a sendmail program that is not installed yet).
	Warnings []string
	// Spool is the opened --spool directory, or nil; Close releases it.
	Spool *notify.Spool
}

// Close releases the spool, if any.
func (m *Mail) Close() error {
	if m.Spool == nil {
		return nil
	}
	return m.Spool.Close()
}

// openSpool opens --spool, the last step of a validation: nothing that
// can fail comes after it, so a refused command line leaves no lock behind.
func (m *Mail) openSpool(dir string) error {
	if dir == "" {
		return nil
	}
	sp, err := notify.OpenSpool(dir)
	if err != nil {
		return fmt.Errorf("--spool: %w", err)
	}
	m.Spool = sp
	return nil
}

// Mail validates o and builds its transport. given holds the names of the
// options that appeared on the command line (cli.Given), so that an option
// given an empty value is told apart from one left out.
func (o *Options) Mail(given map[string]bool, env []string) (Mail, error) {
	if given["smtp-host"] && given["sendmail_program"] {
		return Mail{}, errors.New("-s/--sendmail and --smtp-host exclude each other: mail goes either through the command or over SMTP")
	}
	s := settings{
		sendmail:     o.Sendmail,
		host:         o.SMTPHost,
		user:         o.SMTPUser,
		passwordEnv:  o.SMTPPasswordEnv,
		passwordFile: o.SMTPPasswordFile,
		tls:          o.SMTPTLS,
		caCert:       o.SMTPCACert,
		insecure:     o.SMTPInsecure,
		sendmailOpt:  "-s/--sendmail",
		tlsOpt:       "--smtp-tls",
	}
	if given["sendmail_program"] && strings.TrimSpace(o.Sendmail) == "" {
		return Mail{}, errors.New("-s/--sendmail: empty command (leave -s out for the default " + DefaultSendmail + ")")
	}
	if given["smtp-host"] {
		if o.SMTPHost == "" {
			return Mail{}, errors.New("--smtp-host: empty host (leave --smtp-host out to mail with the sendmail program)")
		}
		s.sendmail = ""
	} else if err := s.smtpWithoutHost(); err != nil {
		return Mail{}, err
	}
	m := Mail{From: o.From}
	if given["email"] || o.Email != "" {
		to, err := Recipients(o.Email)
		if err != nil {
			return Mail{}, fmt.Errorf("-m/--email: %w", err)
		}
		m.To = to
	}
	t, err := s.transport(env)
	if err != nil {
		return Mail{}, err
	}
	m.Transport = t
	if m.To == nil {
		if o.Spool != "" {
			return Mail{}, errors.New("--spool needs -m/--email: without it nothing is mailed")
		}
		return m, nil
	}
	if w := checkProgram(s.sendmail); w != "" {
		m.Warnings = append(m.Warnings, w)
	}
	if err := m.openSpool(o.Spool); err != nil {
		return Mail{}, err
	}
	return m, nil
}

// smtpWithoutHost refuses SMTP settings that would be ignored because mail
// goes through the sendmail program.
func (s *settings) smtpWithoutHost() error {
	for _, o := range []struct{ name, v string }{
		{"--smtp-user", s.user}, {"--smtp-password-env", s.passwordEnv},
		{"--smtp-password-file", s.passwordFile}, {"--smtp-cacert", s.caCert},
	} {
		if o.v != "" {
			return fmt.Errorf("%s needs --smtp-host", o.name)
		}
	}
	if s.tls != "none" && s.tls != "" {
		return errors.New("--smtp-tls needs --smtp-host")
	}
	if s.insecure {
		return errors.New("--smtp-insecure needs --smtp-host")
	}
	return nil
}

// Recipients splits a comma-separated address list (superlance wrote -m
// into a To: header for "sendmail -t", where a comma separates recipients,
// and split -t on commas). Parts are trimmed and empty parts skipped; a
// list without any address is an error.
func Recipients(list string) ([]string, error) {
	var to []string
	for part := range strings.SplitSeq(list, ",") {
		if part = strings.TrimSpace(part); part != "" {
			to = append(to, part)
		}
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("no address in %q", list)
	}
	return to, nil
}

// settings is the options of either family, in one vocabulary.
type settings struct {
	sendmail                  string // the command; "" means SMTP
	host, user                string
	password                  string // given directly (batch -p)
	passwordEnv, passwordFile string
	tls                       string // none, starttls or tls
	caCert                    string
	insecure                  bool
	// Option names for messages, as the family spells them.
	sendmailOpt, tlsOpt string
}

// transport builds the transport s describes; every check that can be made
// before the first mail is made here.
func (s *settings) transport(env []string) (notify.Transport, error) {
	if s.sendmail != "" {
		return &notify.Sendmail{Command: s.sendmail}, nil
	}
	sm := &notify.SMTP{Username: s.user}
	switch s.tls {
	case "starttls":
		sm.TLS = notify.TLSStartTLS
	case "tls":
		sm.TLS = notify.TLSImplicit
	}
	addr, err := SMTPAddr(s.host, sm.TLS == notify.TLSImplicit)
	if err != nil {
		return nil, fmt.Errorf("--smtp-host: %w", err)
	}
	sm.Addr = addr
	if sm.Password, err = secret.Resolve(s.password, s.passwordEnv, s.passwordFile, env); err != nil {
		return nil, fmt.Errorf("SMTP password: %w", err)
	}
	if (sm.Username == "") != (sm.Password == "") {
		return nil, errors.New("SMTP AUTH needs both --smtp-user and a password (--smtp-password-env or --smtp-password-file)")
	}
	if s.caCert != "" || s.insecure {
		switch {
		case sm.TLS == notify.TLSNone:
			return nil, fmt.Errorf("--smtp-cacert and --smtp-insecure need %s starttls or tls", s.tlsOpt)
		case s.caCert != "" && s.insecure:
			return nil, errors.New("--smtp-cacert and --smtp-insecure exclude each other")
		case s.caCert != "":
			if sm.TLSConfig, err = TLSConfigWithCA(addr, s.caCert); err != nil {
				return nil, fmt.Errorf("--smtp-cacert: %w", err)
			}
		default:
			sm.TLSConfig = insecureTLS(addr)
		}
	}
	if err := sm.Check(); err != nil {
		return nil, fmt.Errorf("%w (%s starttls or tls)", err, s.tlsOpt)
	}
	return sm, nil
}

// checkProgram returns a warning when the first word of a sendmail command
// line names no executable file, or "" when it does or cannot be judged.
// It is a warning, not a refusal: the command is a shell line (its first
// word may be a builtin or an assignment), and a program installed after the
// listener started is used from then on.
func checkProgram(command string) string {
	if command == "" {
		return ""
	}
	word := strings.Fields(command)[0]
	if strings.ContainsAny(word, "=$`'\"(){}<>|&;*?[]~\\") || shellBuiltins[word] {
		return ""
	}
	if _, err := exec.LookPath(word); err != nil {
		reason := "not found in PATH"
		if strings.Contains(word, "/") {
			reason = "missing or not executable"
			if fi, serr := os.Stat(word); serr == nil && fi.Mode().IsRegular() {
				reason = "not executable"
			} else if serr == nil {
				reason = "not a file"
			} else if errors.Is(serr, os.ErrNotExist) {
				reason = "does not exist"
			}
		}
		return fmt.Sprintf("mail command %q: %s %s: every mail will fail until it is installed", command, word, reason)
	}
	return ""
}

// shellBuiltins are words /bin/sh runs itself, which PATH need not hold.
var shellBuiltins = map[string]bool{
	"exec": true, "command": true, "eval": true, ".": true, ":": true, "true": true,
	"false": true, "echo": true, "printf": true, "read": true, "cd": true, "set": true,
	"export": true, "test": true, "exit": true, "if": true, "for": true, "while": true,
	"case": true, "!": true, "trap": true, "ulimit": true, "umask": true, "wait": true,
}

// AlertTransport is m as a transport of an alert queue, each alert one
// mail; nil (no transport) when nothing is mailed. It never spools: it
// is for --test-alert, whose alert must not outlive the command.
func (m *Mail) AlertTransport(logger *log.Logger) alert.Transport {
	if m.To == nil {
		return nil
	}
	return &alert.Mail{Queue: notify.NewQueue(m.Transport, notify.QueueOptions{Log: logger}), To: m.To, From: m.From}
}

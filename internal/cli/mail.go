package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/superlance-go/superlance/notify"
)

// SMTPFlags are long-only options that let httpok, memmon and crashmail
// deliver over SMTP instead of running the sendmail program. Python
// superlance has no such options, so none of them has a short form that
// could clash with an upstream one. Embed with `embed:""`.
type SMTPFlags struct {
	SMTPHost         string `name:"smtp-host" placeholder:"HOST[:PORT]" help:"Deliver mail over SMTP to this server (port 25 by default) instead of running the sendmail program."`
	SMTPUser         string `name:"smtp-user" placeholder:"USER" help:"SMTP AUTH user name."`
	SMTPPasswordEnv  string `name:"smtp-password-env" placeholder:"VAR" help:"Read the SMTP password from this environment variable."`
	SMTPPasswordFile string `name:"smtp-password-file" placeholder:"FILE" help:"Read the SMTP password from the first line of this file."`
	SMTPTLS          string `name:"smtp-tls" enum:"none,starttls,tls" default:"none" help:"SMTP connection security: none, starttls, or tls (implicit TLS, port 465 by default)."`
	SMTPCACert       string `name:"smtp-cacert" placeholder:"FILE" help:"Trust the CA certificates in this PEM file for SMTP TLS (verification is always on)."`
	From             string `name:"from" placeholder:"ADDRESS" help:"From address of the mail (with sendmail, the program's default sender when empty)."`
}

// Transport returns the SMTP transport the flags describe, or a Sendmail
// transport running sendmailCommand when --smtp-host is not given.
func (f *SMTPFlags) Transport(sendmailCommand string, env []string) (notify.Transport, error) {
	if f.SMTPHost == "" {
		for name, v := range map[string]string{"--smtp-user": f.SMTPUser, "--smtp-password-env": f.SMTPPasswordEnv, "--smtp-password-file": f.SMTPPasswordFile, "--smtp-cacert": f.SMTPCACert} {
			if v != "" {
				return nil, fmt.Errorf("%s needs --smtp-host", name)
			}
		}
		if f.SMTPTLS != "none" && f.SMTPTLS != "" {
			return nil, errors.New("--smtp-tls needs --smtp-host")
		}
		return &notify.Sendmail{Command: sendmailCommand}, nil
	}
	s := &notify.SMTP{Username: f.SMTPUser}
	switch f.SMTPTLS {
	case "starttls":
		s.TLS = notify.TLSStartTLS
	case "tls":
		s.TLS = notify.TLSImplicit
	}
	addr, err := SMTPAddr(f.SMTPHost, s.TLS == notify.TLSImplicit)
	if err != nil {
		return nil, fmt.Errorf("--smtp-host: %w", err)
	}
	s.Addr = addr
	if s.Password, err = Secret("", f.SMTPPasswordEnv, f.SMTPPasswordFile, env); err != nil {
		return nil, err
	}
	if (s.Username == "") != (s.Password == "") {
		return nil, errors.New("SMTP AUTH needs both --smtp-user and a password (--smtp-password-env or --smtp-password-file)")
	}
	if f.SMTPCACert != "" {
		if s.TLS == notify.TLSNone {
			return nil, errors.New("--smtp-cacert needs --smtp-tls starttls or tls")
		}
		if s.TLSConfig, err = TLSConfigWithCA(addr, f.SMTPCACert); err != nil {
			return nil, err
		}
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("%w (--smtp-tls starttls or tls)", err)
	}
	return s, nil
}

// SMTPAddr turns "host" or "host:port" (IPv6 as [::1] or [::1]:25) into
// host:port, with port 25, or 465 for implicit TLS, when none is given.
func SMTPAddr(hostport string, implicitTLS bool) (string, error) {
	if hostport == "" {
		return "", errors.New("empty host")
	}
	if host, port, err := net.SplitHostPort(hostport); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("invalid host %q", hostport)
		}
		return hostport, nil
	}
	port := "25"
	if implicitTLS {
		port = "465"
	}
	host := hostport
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return net.JoinHostPort(host, port), nil
}

// TLSConfigWithCA returns a verifying TLS config for addr's host that trusts
// the certificates in caFile.
func TLSConfigWithCA(addr, caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

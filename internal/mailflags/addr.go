package mailflags

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/superlance-go/superlance/internal/tlsca"
)

// SMTPAddr turns "host" or "host:port" (IPv6 as [::1], [::1]:25 or a bare
// ::1) into host:port, with port 25, or 465 for implicit TLS, when none is
// given. A port must be a number from 1 to 65535: anything else would fail
// on every send, so it is refused at start-up.
func SMTPAddr(hostport string, implicitTLS bool) (string, error) {
	if strings.TrimSpace(hostport) == "" {
		return "", errors.New("empty host")
	}
	port := "25"
	if implicitTLS {
		port = "465"
	}
	if ip := net.ParseIP(hostport); ip != nil {
		return net.JoinHostPort(hostport, port), nil
	}
	if len(hostport) > 1 && hostport[0] == '[' && hostport[len(hostport)-1] == ']' {
		host := hostport[1 : len(hostport)-1]
		if net.ParseIP(host) == nil {
			return "", fmt.Errorf("invalid host %q: brackets hold an IPv6 address", hostport)
		}
		return net.JoinHostPort(host, port), nil
	}
	if !strings.Contains(hostport, ":") {
		return net.JoinHostPort(hostport, port), nil
	}
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("invalid host %q: want HOST or HOST:PORT", hostport)
	}
	if host == "" {
		return "", fmt.Errorf("invalid host %q: no host name", hostport)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid host %q: port %q is not a number from 1 to 65535", hostport, p)
	}
	return hostport, nil
}

// TLSConfigWithCA returns a verifying TLS config for addr's host that trusts
// the certificates in caFile.
func TLSConfigWithCA(addr, caFile string) (*tls.Config, error) {
	pool, err := tlsca.Pool(caFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, ServerName: hostOf(addr), MinVersion: tls.VersionTLS12}, nil
}

// insecureTLS is --smtp-insecure: encryption without certificate checks.
func insecureTLS(addr string) *tls.Config {
	return &tls.Config{ServerName: hostOf(addr), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
}

func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

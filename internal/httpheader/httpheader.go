// Package httpheader reads the extra HTTP request headers a command line
// gives, as 'Name: value' options or as a file of such lines, the same way
// for every option that takes them (the webhooks' headers, httpok's check).
// Values are often tokens: no error ever quotes one.
package httpheader

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"strings"
)

// Add parses line as "Name: value" and adds it to h. reserved names the
// headers the caller sets itself (canonical form), which the line may not.
func Add(h http.Header, line string, reserved ...string) error {
	name, value, ok := strings.Cut(line, ":")
	name = strings.TrimSpace(name)
	switch {
	case !ok:
		// Most likely a token without its header name: show none of it.
		return errors.New("want 'NAME: VALUE', got no ':'")
	case !validFieldName(name):
		return errors.New("want 'NAME: VALUE', got no header name before ':'")
	}
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("header %s: the value holds a line break", name)
	}
	canon := textproto.CanonicalMIMEHeaderKey(name)
	for _, r := range reserved {
		if canon == r {
			return fmt.Errorf("header %s is set by the listener itself", name)
		}
	}
	h.Add(name, value)
	return nil
}

// validFieldName reports whether s is an HTTP header name (an RFC 9110
// token).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// AddFile adds the headers of a file to h: one 'Name: value' per line,
// blank lines and lines starting with # ignored. A file keeps a token out
// of argv, which every local user can read.
func AddFile(h http.Header, path string, reserved ...string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := Add(h, line, reserved...); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return s.Err()
}

// Package superlance renders values the way Python superlance prints them
// in its mails and logs: Python's repr() of a str, of a list of str, and of
// an xmlrpc Fault, supervisor's asctime, the "Mailed:" block. The tools use it so that their texts stay byte for byte
// upstream's, while the libraries they build on return Go-style errors.
package superlance

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/superlance-go/superlance/rpcclient"
)

// ErrorText renders err for a superlance text: a supervisord fault, however
// wrapped, as Python shows an xmlrpc Fault (<Fault 70: 'NOT_RUNNING: foo'>),
// any other error as its message.
func ErrorText(err error) string {
	var f *rpcclient.Fault
	if errors.As(err, &f) {
		return Fault(f)
	}
	return err.Error()
}

// Fault renders f as Python's repr() of an xmlrpc.client.Fault, which is
// also its str(): <Fault 70: 'NOT_RUNNING: foo'>.
func Fault(f *rpcclient.Fault) string {
	return fmt.Sprintf("<Fault %d: %s>", int(f.Code), Repr(f.String))
}

// List renders items as Python prints a list of str, e.g. ['foo', 'grp:bar'].
func List(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Repr(s))
	}
	b.WriteByte(']')
	return b.String()
}

// Repr renders s as Python 3's repr() of a str: single quotes unless s
// holds a single quote and no double quote, backslash escapes for the
// quote, the backslash, \t \n \r and non-printable characters. Bytes that
// are not UTF-8 appear as Python shows command-line arguments it could not
// decode (surrogateescape): \udcXX. (Text that came over XML-RPC is always
// UTF-8; rpcclient replaces undecodable bytes before decoding.)
func Repr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\udc%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case unicode.IsPrint(r):
			// Go's IsPrint matches Python's str.isprintable: letters, marks,
			// numbers, punctuation, symbols and the ASCII space.
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

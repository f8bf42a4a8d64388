package superlance_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/rpcclient"
)

func TestRepr(t *testing.T) {
	// Expected values are what Python 3.11 prints for repr(s).
	tests := []struct{ in, want string }{
		{"", `''`},
		{"foo", `'foo'`},
		{"grp:bar", `'grp:bar'`},
		{"it's", `"it's"`},
		{`say "hi"`, `'say "hi"'`},
		{`it's "x"`, `'it\'s "x"'`},
		{`back\slash`, `'back\\slash'`},
		{"tab\tnl\ncr\r", `'tab\tnl\ncr\r'`},
		{"\x00\x1b\x7f", `'\x00\x1b\x7f'`},
		{"esc\x1b[0m bel\a", `'esc\x1b[0m bel\x07'`},
		{"café ✓ 日本", `'café ✓ 日本'`},
		{"\u0085\u00a0\u00ad", `'\x85\xa0\xad'`},
		{"\u2028\u200b", `'\u2028\u200b'`},
		{"\U000e0001", `'\U000e0001'`},
		{"\U0001F600", "'\U0001F600'"},
		{"bad\xffbyte", `'bad\udcffbyte'`},
	}
	for _, tt := range tests {
		if got := superlance.Repr(tt.in); got != tt.want {
			t.Errorf("Repr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{"foo"}, "['foo']"},
		{[]string{"foo", "bar", "baz_01", "notexisting"}, "['foo', 'bar', 'baz_01', 'notexisting']"},
		{[]string{"grp:web", "it's"}, `['grp:web', "it's"]`},
	}
	for _, tt := range tests {
		if got := superlance.List(tt.in); got != tt.want {
			t.Errorf("List(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	fault := func(code rpcclient.FaultCode, s string) error { return &rpcclient.Fault{Code: code, String: s} }
	tests := []struct {
		err  error
		want string
	}{
		{fault(rpcclient.FaultNotRunning, "NOT_RUNNING: foo"), `<Fault 70: 'NOT_RUNNING: foo'>`},
		{fault(rpcclient.FaultUnknownMethod, "UNKNOWN_METHOD"), `<Fault 1: 'UNKNOWN_METHOD'>`},
		{fault(rpcclient.FaultNoFile, "NO_FILE: can't find command '/nonexistent/prog'"),
			`<Fault 20: "NO_FILE: can't find command '/nonexistent/prog'">`},
		{fault(rpcclient.FaultBadName, ""), `<Fault 10: ''>`},
		// As the client returns it: wrapped with the call.
		{fmt.Errorf(`supervisor.stopProcess "web:app": %w`, fault(rpcclient.FaultNotRunning, "NOT_RUNNING: web:app")),
			`<Fault 70: 'NOT_RUNNING: web:app'>`},
		{errors.New(`supervisor.getAllProcessInfo: dial unix /x.sock: connect: no such file or directory`),
			`supervisor.getAllProcessInfo: dial unix /x.sock: connect: no such file or directory`},
	}
	for _, tt := range tests {
		if got := superlance.ErrorText(tt.err); got != tt.want {
			t.Errorf("ErrorText(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

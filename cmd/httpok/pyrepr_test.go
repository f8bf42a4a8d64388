package main

import "testing"

func TestPyRepr(t *testing.T) {
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
		{"café ✓", `'café ✓'`},
		{"\u0085\u00a0\u00ad", `'\x85\xa0\xad'`},
		{"\u2028\u200b", `'\u2028\u200b'`},
		{"\U000e0001", `'\U000e0001'`},
		{"\U0001F600", "'\U0001F600'"},
		{"bad\xffbyte", `'bad\udcffbyte'`},
	}
	for _, tt := range tests {
		if got := pyRepr(tt.in); got != tt.want {
			t.Errorf("pyRepr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPyList(t *testing.T) {
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
		if got := pyList(tt.in); got != tt.want {
			t.Errorf("pyList(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

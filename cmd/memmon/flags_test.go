package main

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/mailflags"
	"github.com/superlance-go/superlance/notify"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"0", 0},
		{"16", 16},
		{"010", 10}, // Python int() reads leading zeros as decimal
		{"+5", 5},
		{"-0", 0},
		{"1_000", 1000},
		{" 7 ", 7},
		{"1kb", 1024},
		{"10kB", 10240},
		{"50MB", 50 << 20},
		{" 1 mB", 1 << 20},
		{"2Gb", 2 << 30},
		{"1_0mb", 10 << 20},
		{"18446744073709551615", math.MaxUint64},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, nil", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, wantErr string }{
		{"", `invalid size "" (want bytes or a number with KB, MB or GB)`},
		{"lots", `invalid size "lots" (want bytes or a number with KB, MB or GB)`},
		{"1.5MB", `invalid size "1.5MB" (want`},
		{"10KiB", `invalid size "10KiB" (want`},
		{"5b", `invalid size "5b" (want`},
		{"0x10", `invalid size "0x10" (want`},
		{"MB", `invalid size "MB" (want`},
		{"1 mb ", `invalid size "1 mb " (want`}, // the suffix must end the text, as upstream
		{"1tb", `invalid size "1tb" (want`},
		{"1e6", `invalid size "1e6" (want`},
		{"_1", `invalid size "_1" (want`},
		{"1_", `invalid size "1_" (want`},
		{"1__0", `invalid size "1__0" (want`},
		{"+-1", `invalid size "+-1" (want`},
		{"- 1", `invalid size "- 1" (want`},
		{"-5", `invalid size "-5" (a size cannot be negative)`},
		{"-1MB", `invalid size "-1MB" (a size cannot be negative)`},
		{"18446744073709551616", `invalid size "18446744073709551616" (too large)`},
		{"17179869184GB", `invalid size "17179869184GB" (too large)`},
	} {
		got, err := parseSize(tc.in)
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
			t.Errorf("parseSize(%q) = %d, %v; want error %q", tc.in, got, err, tc.wantErr)
		}
	}
}

func TestParseUptime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		// Upstream's own cases.
		{"1", 1}, {"1s", 1}, {"2m", 120}, {"3h", 10800}, {"1d", 86400},
		{"0", 0}, {"1H", 3600}, {" 5 m", 300}, {"1_0s", 10}, {"+2", 2},
	} {
		got, err := parseUptime(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseUptime(%q) = %d, %v; want %d, nil", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, wantErr string }{
		{"1y", "want seconds or a number with s, m, h or d"},
		{"", "want seconds"},
		{"s", "want seconds"},
		{"1.5h", "want seconds"},
		{"1w", "want seconds"},
		{"1ms", "want seconds"},
		{"1s ", "want seconds"},
		{"-1", "a time cannot be negative"},
		{"-1d", "a time cannot be negative"},
		{"106751991167301d", "too large"},
	} {
		got, err := parseUptime(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseUptime(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.wantErr)
		}
	}
}

// TestConfig covers upstream's argument-parser cases and the options it
// reached only by prefix.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		want     config
		sendmail string
		email    []string
	}{
		{
			name: "upstream full",
			args: []string{"-c", "-p", "foo=50MB", "-g", "bar=10kB", "--any", "250", "-s", "mutt", "-m", "me@you.com", "-u", "1d", "-n", "myproject"},
			want: config{
				rules:      rules{programs: map[string]uint64{"foo": 52428800}, groups: map[string]uint64{"bar": 10240}, any: 250, hasAny: true},
				cumulative: true, uptime: 86400, name: "myproject",
			},
			sendmail: "mutt",
			email:    []string{"me@you.com"},
		},
		{
			name: "upstream email only: defaults",
			args: []string{"-m", "me@you.com"},
			want: config{
				rules:  rules{programs: map[string]uint64{}, groups: map[string]uint64{}},
				uptime: math.MaxInt64,
			},
			sendmail: "/usr/sbin/sendmail -t -i",
			email:    []string{"me@you.com"},
		},
		{
			name: "upstream program only: no email",
			args: []string{"-p", "foo=50MB"},
			want: config{
				rules:  rules{programs: map[string]uint64{"foo": 52428800}, groups: map[string]uint64{}},
				uptime: math.MaxInt64,
			},
			sendmail: "/usr/sbin/sendmail -t -i",
		},
		{
			name: "long names, aliases, attached values, later name overrides, name from -n only",
			args: []string{"--program=web=1GB", "-pgrp:web=2", "--program", "web=3", "--groupname", "g=1kb", "--group=h=2kb", "--sendmail", "cat", "--email=a@b, c@d", "--uptime=2m", "-n", "x", "-p", "other=1", "-a", "1", "-a", "5"},
			want: config{
				rules:  rules{programs: map[string]uint64{"web": 3, "grp:web": 2, "other": 1}, groups: map[string]uint64{"g": 1024, "h": 2048}, any: 5, hasAny: true},
				uptime: 120, name: "x",
			},
			sendmail: "cat",
			email:    []string{"a@b", "c@d"},
		},
		{
			name: "bundled",
			args: []string{"-cp", "foo=1"},
			want: config{
				rules:      rules{programs: map[string]uint64{"foo": 1}, groups: map[string]uint64{}},
				cumulative: true, uptime: math.MaxInt64,
			},
			sendmail: "/usr/sbin/sendmail -t -i",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, code, done := parseArgs(tc.args, &stdout, &stderr, nil)
			if done {
				t.Fatalf("parseArgs(%q) stopped with code %d, stderr %q", tc.args, code, stderr.String())
			}
			sendmail, email := cfg.mail.Transport.(*notify.Sendmail).Command, cfg.mail.To
			cfg.mail = mailflags.Mail{}
			if cfg.channels == nil || cfg.channels.Any() {
				t.Errorf("parseArgs(%q): channels %+v, want none configured", tc.args, cfg.channels)
			}
			cfg.channels = nil
			if sendmail != tc.sendmail || !reflect.DeepEqual(email, tc.email) {
				t.Errorf("parseArgs(%q): got mail command %q to %q, want %q to %q", tc.args, sendmail, email, tc.sendmail, tc.email)
			}
			if !reflect.DeepEqual(*cfg, tc.want) {
				t.Errorf("parseArgs(%q)\n got %+v\nwant %+v", tc.args, *cfg, tc.want)
			}
		})
	}
}

// TestUsage runs the command with bad or informative command lines: none of
// them may touch stdout except --help, and none needs supervisord.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStderr string // substring; "" means stderr must be empty
		wantStdout string // substring; "" means stdout must be empty
	}{
		{"help", []string{"-h"}, nil, 0, "", "--cumulative"},
		{"long help", []string{"--help"}, nil, 0, "", "--sendmail_program"},
		{"no arguments", nil, nil, 2, "memmon: error: no options given: set a limit with -p, -g or -a\n", ""},
		{"unknown flag", []string{"-x"}, nil, 2, "memmon: error: unknown flag -x", ""},
		{"stray argument", []string{"-a", "1", "extra"}, nil, 2, "memmon: error: unexpected argument extra", ""},
		{"prefix only", []string{"--prog", "a=1"}, nil, 2, "memmon: error: unknown flag --prog", ""},
		{"missing value", []string{"-p"}, nil, 2, "memmon: error: -p needs a value", ""},
		{"bad program size", []string{"-p", "hog=lots"}, nil, 2, `memmon: error: --program "hog=lots": invalid size "lots" (want bytes or a number with KB, MB or GB)` + "\n", ""},
		{"program without =", []string{"-p", "hog"}, nil, 2, `memmon: error: --program "hog": want NAME=SIZE`, ""},
		{"program empty name", []string{"-p", "=5"}, nil, 2, `memmon: error: --program "=5": empty name`, ""},
		{"program two =", []string{"-p", "a=1=2"}, nil, 2, `memmon: error: --program "a=1=2": invalid size "1=2"`, ""},
		{"bad group size", []string{"--groupname", "g=1.5MB"}, nil, 2, `memmon: error: --group "g=1.5MB": invalid size "1.5MB"`, ""},
		{"bad any", []string{"-a", "10KiB"}, nil, 2, `memmon: error: --any "10KiB": invalid size "10KiB"`, ""},
		{"empty any", []string{"-a", ""}, nil, 2, `memmon: error: --any "": invalid size ""`, ""},
		{"negative any", []string{"-a", "-5"}, nil, 2, `memmon: error: --any "-5": invalid size "-5" (a size cannot be negative)`, ""},
		{"bad uptime", []string{"-a", "1", "-u", "1y"}, nil, 2, `memmon: error: --uptime "1y": want seconds or a number with s, m, h or d`, ""},
		{"empty email", []string{"-a", "1", "-m", " , "}, nil, 2, `memmon: error: -m/--email: no address in " , "`, ""},
		{"header injection", []string{"-a", "1", "-m", "a@b", "-n", "x\r\nBcc: evil@x"}, nil, 2, "memmon: error: mail settings:", ""},
		{"smtp option without host", []string{"-a", "1", "--smtp-user", "u"}, nil, 2, "memmon: error: --smtp-user needs --smtp-host", ""},
		{"not under supervisord", []string{"-a", "1MB"}, nil, 1, "memmon must be run as a supervisor event listener\n", ""},
		{"empty server url", []string{"-a", "1MB"}, []string{"SUPERVISOR_SERVER_URL="}, 1, "memmon must be run as a supervisor event listener\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr, tc.env)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			check := func(what, got, want string) {
				t.Helper()
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", what, got, want)
				}
			}
			check("stderr", stderr.String(), tc.wantStderr)
			check("stdout", stdout.String(), tc.wantStdout)
		})
	}
}

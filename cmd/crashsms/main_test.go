package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/batchmon"
)

// The option grammar is batchmon's and tested there; these cases pin what
// is crashsms's own: its name in messages, its default subject, its refusal.
func TestCommandLine(t *testing.T) {
	ok := []string{"-t", "a@example.com", "-f", "b@example.com"}
	tests := []struct {
		name       string
		args       []string
		env        []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"--help"}, nil, 0, "--toEmail", ""},
		{"no options", nil, nil, 2, "", "crashsms: error: missing flags: --fromEmail=FROM_EMAIL, --toEmail=TO_EMAILS\n"},
		{"bad tick", append(ok, "-e", "TICK_x"), nil, 2, "", "crashsms: error: --tickEvent: \"TICK_x\" is not TICK_<seconds>"},
		{"unknown option", append(ok, "-Z"), nil, 2, "", "crashsms: error: unknown flag -Z"},
		{"outside supervisord", ok, nil, 1, "", "Must run as a supervisor event listener\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, tt.env)
			if code != tt.code {
				t.Errorf("exit: got %d, want %d", code, tt.code)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() != 0) {
				t.Errorf("stdout: got %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.HasPrefix(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() != 0) {
				t.Errorf("stderr: got %q, want it to start with %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	ok := []string{"-t", "a@example.com", "-f", "b@example.com"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"absent: the default", ok, ""},
		{"empty: no Subject header", append(ok, "-s", ""), ""},
		{"given", append(ok, "--subject", "hello"), "hello"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		cfg, _, done := batchmon.Parse(tool, tt.args, &stdout, &stderr, nil)
		if done {
			t.Fatalf("%s: Parse failed: %s", tt.name, stderr.String())
		}
		if cfg.Subject != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, cfg.Subject, tt.want)
		}
	}
}

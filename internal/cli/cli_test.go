package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type grammar struct {
	Program []string `short:"p" name:"program" sep:"none"`
	Body    string   `short:"b" name:"body"`
	URL     string   `arg:"" name:"URL"`
}

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantDone   bool
		wantStdout string
		wantStderr string
	}{
		{"ok", []string{"-p", "a", "-pb", "-b", "-x", "http://x/"}, 0, false, "", ""},
		{"help", []string{"-h"}, 0, true, "Usage: tool", ""},
		{"unknown flag", []string{"--bogus", "http://x/"}, ExitUsage, true, "", "tool: error: unknown flag --bogus"},
		{"missing arg", []string{"-p", "a"}, ExitUsage, true, "", "tool: error: expected \"<URL>\""},
		{"extra arg", []string{"http://a/", "http://b/"}, ExitUsage, true, "", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g grammar
			var stdout, stderr bytes.Buffer
			_, code, done := Parse("tool", "a tool", &g, tt.args, &stdout, &stderr)
			if code != tt.wantCode || done != tt.wantDone {
				t.Fatalf("got code=%d done=%v, want code=%d done=%v (stderr %q)", code, done, tt.wantCode, tt.wantDone, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	var g grammar
	if _, _, done := Parse("tool", "", &g, []string{"-p", "a", "-pb", "-b", "-x", "http://x/"}, &bytes.Buffer{}, &bytes.Buffer{}); done {
		t.Fatal("valid command line rejected")
	}
	if strings.Join(g.Program, ",") != "a,b" || g.Body != "-x" || g.URL != "http://x/" {
		t.Errorf("got %+v, want program [a b], body -x, URL http://x/", g)
	}
}

func TestGetenv(t *testing.T) {
	env := []string{"A=1", "B=x=y", "A=2", "EMPTY="}
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{{"A", "2", true}, {"B", "x=y", true}, {"EMPTY", "", true}, {"NONE", "", false}} {
		if got, ok := Getenv(env, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Getenv(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PW=fromenv"}
	for _, tt := range []struct {
		name, direct, envName, file, want string
		wantErr                            bool
	}{
		{"direct", "d", "", "", "d", false},
		{"env", "", "PW", "", "fromenv", false},
		{"env missing", "", "NOPE", "", "", true},
		{"file", "", "", file, "s3cret", false},
		{"file missing", "", "", file + ".none", "", true},
		{"two sources", "d", "PW", "", "", true},
		{"none", "", "", "", "", false},
	} {
		got, err := Secret(tt.direct, tt.envName, tt.file, env)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

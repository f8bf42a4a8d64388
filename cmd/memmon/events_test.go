package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestEventStream feeds captured supervisord event streams to run(): every
// event is acknowledged, non-TICK events cause no output at all, and a TICK
// whose getAllProcessInfo fails (no supervisord behind the socket) is logged
// and skipped without hurting the event loop.
func TestEventStream(t *testing.T) {
	env := []string{"SUPERVISOR_SERVER_URL=unix://" + filepath.Join(t.TempDir(), "no.sock")}
	for _, tc := range []struct {
		file       string
		events     int
		wantStderr *regexp.Regexp
	}{
		{"shutdown.txt", 4, regexp.MustCompile(`^$`)},
		{"stop-start.txt", 5, regexp.MustCompile(`^memmon: Checking any=1048576\nmemmon: getAllProcessInfo: .+; skipping this check\n$`)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			stream, err := os.ReadFile(filepath.Join("..", "..", "testdata", "supervisor", "events", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			var stderr svtest.LockedBuffer
			code := run(context.Background(), []string{"-a", "1MB"}, bytes.NewReader(stream), &stdout, &stderr, env)
			if code != 0 {
				t.Errorf("exit code %d, want 0 (stderr %q)", code, stderr.String())
			}
			if want := strings.Repeat("READY\nRESULT 2\nOK", tc.events) + "READY\n"; stdout.String() != want {
				t.Errorf("stdout = %q, want %q", stdout.String(), want)
			}
			if !tc.wantStderr.MatchString(stderr.String()) {
				t.Errorf("stderr = %q, want it to match %v", stderr.String(), tc.wantStderr)
			}
		})
	}
}

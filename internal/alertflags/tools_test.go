package alertflags_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestEveryToolTakesTheChannelOptions runs every alerting tool's binary:
// each lists the options in --help and refuses a bad channel setting at
// start with exit 2, before it would refuse to run outside supervisord.
func TestEveryToolTakesTheChannelOptions(t *testing.T) {
	tools := map[string][]string{
		"crashmail":      {"-a"},
		"crashmailbatch": {"-t", "ops@example.com", "-f", "sv@example.com"},
		"crashsms":       {"-t", "ops@example.com", "-f", "sv@example.com"},
		"fatalmailbatch": {"-t", "ops@example.com", "-f", "sv@example.com"},
		"httpok":         {"-p", "web", "http://127.0.0.1:1/"},
		"memmon":         {"-p", "web=100MB"},
		"missingmail":    {"-p", "web", "-m", "ops@example.com"},
		"procmon":        {"-p", "web"},
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--heartbeat"}, "--heartbeat needs --alertmanager"},
		{[]string{"--alertmanager", "http://am:9093", "--label", "job=x"}, `label "job" is set by the listener itself`},
		{[]string{"--webhook", "ftp://hooks.example.com/secret"}, "scheme must be http or https"},
		{[]string{"--webhook", "http://h/", "--webhook-header", "Authorization Bearer s3cr3t"}, "want 'NAME: VALUE'"},
		{[]string{"--alertmanager", "http://am:9093", "--resolve-after", "0s"}, "--resolve-after"},
		{[]string{"--alertmanager"}, "--alertmanager needs a value"},
	}
	for name, base := range tools {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := svtest.BuildTool(t, name)
			out, _ := runTool(t, bin, "--help")
			for _, opt := range []string{"--webhook=URL", "--webhook-format", "--webhook-header", "--webhook-header-file", "--alertmanager=URL", "--instance", "--label", "--resolve-after", "--heartbeat"} {
				if !strings.Contains(out, opt) {
					t.Errorf("--help lacks %s", opt)
				}
			}
			for _, b := range bad {
				args := append(append([]string{}, base...), b.args...)
				if name == "httpok" { // the URL stays last
					if len(b.args) == 1 {
						continue // --alertmanager would take the URL as its value
					}
					args = append(append([]string{"-p", "web"}, b.args...), "http://127.0.0.1:1/")
				}
				_, stderr := runTool(t, bin, args...)
				if !strings.HasPrefix(stderr, name+": error: ") || !strings.Contains(stderr, b.want) {
					t.Errorf("%q: stderr %q, want an error containing %q", b.args, stderr, b.want)
				}
				if strings.Contains(stderr, "s3cr3t") || strings.Contains(stderr, "secret") {
					t.Errorf("%q: stderr shows a secret: %q", b.args, stderr)
				}
			}
		})
	}
}

// runTool runs bin with args outside supervisord and returns stdout and
// stderr; anything but exit 0 after --help and exit 2 otherwise fails.
func runTool(t *testing.T, bin string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	want := 2
	if len(args) == 1 && args[0] == "--help" {
		want = 0
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		t.Errorf("%s %q: exit %d (%v), want %d; stderr %q", bin, args, code, err, want, stderr.String())
	}
	return stdout.String(), stderr.String()
}

package tools

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/module"
	"github.com/superlance-go/superlance/internal/svtest"
)

// required are the arguments a tool cannot start without besides its mail
// options; a tool not named here needs none.
var required = map[string][]string{
	"httpok":      {"http://127.0.0.1:1/health"},
	"missingmail": {"-a"},
	"procmon":     {"-a"},
}

// mailArgs routes a tool's mail to the SMTP server at addr, with the
// options the tool's --help lists (the batch tools' -t/-f, or -m/--from).
func mailArgs(t *testing.T, bin, addr string) []string {
	help, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(help, []byte("--toEmail")) {
		return []string{"-t", "ops@example.com", "-f", "sv@example.com", "--smtp-host", addr}
	}
	return []string{"-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", addr}
}

// TestTestAlert runs every tool with --test-alert from a shell (no
// supervisord): a server that accepts the mail makes it exit 0, one that
// refuses it exit 1 with the reason; with no channel at all it says so.
// (Webhook and Alertmanager outcomes: internal/alertflags' tests.)
func TestTestAlert(t *testing.T) {
	root, err := module.Root()
	if err != nil {
		t.Fatal(err)
	}
	names, err := Names(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range names {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			bin := svtest.BuildTool(t, tool)
			run := func(args ...string) (int, string) {
				cmd := exec.Command(bin, append(append([]string{"--test-alert"}, required[tool]...), args...)...)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no SUPERVISOR_SERVER_URL: a shell
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					return exit.ExitCode(), string(out)
				} else if err != nil {
					t.Fatal(err)
				}
				return 0, string(out)
			}

			ok := svtest.StartSMTP(t, svtest.SMTPOptions{})
			code, out := run(mailArgs(t, bin, ok.Addr)...)
			if code != 0 || !strings.Contains(out, "test alert via ") || !strings.Contains(out, ": delivered") {
				t.Fatalf("accepting server: exit %d, want 0 and a delivered line:\n%s", code, out)
			}
			mails := ok.WaitMails(t, 1, 30*time.Second)
			if m := mails[0]; !strings.Contains(m.Text, "TEST ALERT") || m.To[0] != "ops@example.com" {
				t.Errorf("mail %q to %v, want a TEST ALERT to ops@example.com", m.Text, m.To)
			}

			refusing := svtest.StartSMTP(t, svtest.SMTPOptions{RejectTo: []string{"ops@example.com"}})
			code, out = run(mailArgs(t, bin, refusing.Addr)...)
			if code != 1 || !strings.Contains(out, ": FAILED: ") || !strings.Contains(out, "550") {
				t.Errorf("refusing server: exit %d, want 1, a FAILED line and the server's 550:\n%s", code, out)
			}

			// A tool that must mail refuses the command line instead (2).
			code, out = run()
			if !(code == 1 && strings.Contains(out, "no channel configured") || code == 2 && strings.Contains(out, ": error: ")) {
				t.Errorf("no channel: exit %d, want 1 and why, or a usage error:\n%s", code, out)
			}
		})
	}
}

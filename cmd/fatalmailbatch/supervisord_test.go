package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestUnderSupervisord: a program that never starts goes BACKOFF -> FATAL
// and is reported in a mail over STARTTLS with AUTH, the password read
// from a file.
func TestUnderSupervisord(t *testing.T) {
	svtest.Need(t)
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "s3cret"})
	pwFile := t.TempDir() + "/pw"
	if err := writeFile(pwFile, "s3cret\n"); err != nil {
		t.Fatal(err)
	}
	bin := svtest.Tool(t, "fatalmailbatch")
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "broken", Command: prog + " fail", Extra: []string{"startretries=1"}}},
		Listeners: []svtest.Listener{{
			Name: "fatalmailbatch",
			Command: bin + " -t ops@example.com -f sv@example.com -H localhost:" + port(srv.Addr) +
				" --tls --tls-cacert " + srv.CAFile + " -u alice --password-file " + pwFile + " -e TICK_5 -i 0.0833",
			Events: "PROCESS_STATE,TICK_5",
		}},
	})
	sv.WaitState(t, "broken", rpcclient.StateFatal, 20*time.Second)
	m := srv.WaitMails(t, 1, 30*time.Second)[0]
	if got, want := m.Msg.Header.Get("Subject"), "Fatal start alert from supervisord"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} -- Process broken:broken failed to start too many times$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body: got %q, want one fatal line for broken:broken", m.Text)
	}
	if !m.TLS || m.Auth != "alice" {
		t.Errorf("delivery: got TLS=%v auth=%q, want TLS and alice", m.TLS, m.Auth)
	}
	// The block is logged once the server has confirmed, just after the mail arrived.
	svtest.Eventually(t, 10*time.Second, "the Sending block on stderr", func() bool {
		return strings.Contains(sv.ListenerStderr(t, "fatalmailbatch"), "fatalmailbatch: Subject: Fatal start alert from supervisord\n")
	})
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }

package svtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// readGreeting reads one line from c within d.
func readGreeting(t *testing.T, c net.Conn, d time.Duration) (string, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	return bufio.NewReader(c).ReadString('\n')
}

func TestSMTPServerGreetings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  SMTPOptions
		setup func(*SMTPServer)
		want  string // greeting prefix; "" means none within the wait
	}{
		{"normal", SMTPOptions{}, nil, "220 localhost ESMTP"},
		{"stalled", SMTPOptions{Stall: true}, nil, ""},
		{"refusing", SMTPOptions{Refuse: true}, nil, "554 5.3.2 "},
		{"down", SMTPOptions{}, func(s *SMTPServer) { s.SetDown(true) }, "421 4.3.2 "},
		{"down and up again", SMTPOptions{}, func(s *SMTPServer) { s.SetDown(true); s.SetDown(false) }, "220 "},
		{"unstalled", SMTPOptions{Stall: true}, (*SMTPServer).Unstall, "220 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := StartSMTP(t, tt.opts)
			if tt.setup != nil {
				tt.setup(s)
			}
			c, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			line, err := readGreeting(t, c, 300*time.Millisecond)
			if tt.want == "" {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("greeting = %q, %v; want a read timeout", line, err)
				}
				return
			}
			if err != nil || !strings.HasPrefix(line, tt.want) {
				t.Fatalf("greeting = %q, %v; want %q...", line, err, tt.want)
			}
		})
	}
}

func TestSMTPServerUnstallReleasesWaitingConnections(t *testing.T) {
	t.Parallel()
	s := StartSMTP(t, SMTPOptions{Stall: true})
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if line, err := r.ReadString('\n'); err == nil {
		t.Fatalf("stalled server greeted: %q", line)
	}
	if n := s.Conns(); n != 1 {
		t.Errorf("Conns() = %d, want 1", n)
	}
	s.Unstall()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting after Unstall = %q, %v; want 220", line, err)
	}
}

func TestSMTPServerImplicitTLSDownClosesSilently(t *testing.T) {
	t.Parallel()
	s := StartSMTP(t, SMTPOptions{ImplicitTLS: true})
	s.SetDown(true)
	_, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr, &tls.Config{RootCAs: s.Roots, ServerName: "localhost"})
	if err == nil {
		t.Fatal("TLS handshake with a down server succeeded")
	}
	s.SetDown(false)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr, &tls.Config{RootCAs: s.Roots, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("TLS after SetDown(false): %v", err)
	}
	defer c.Close()
	if line, err := readGreeting(t, c, 5*time.Second); err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting = %q, %v; want 220", line, err)
	}
}

// TestSMTPServerRecords drives the server with net/smtp, the client the
// production code uses, and a base64 body that notify never produces.
func TestSMTPServerRecords(t *testing.T) {
	t.Parallel()
	s := StartSMTP(t, SMTPOptions{StartTLS: true, Username: "bob", Password: "pw"})
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("CAFile %s holds no certificate", s.CAFile)
	}

	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.com"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Errorf("AUTH offered before TLS, want it only after STARTTLS")
	}
	if err := c.Mail("x@example.com"); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("MAIL before AUTH = %v, want 502", err)
	}
	if err := c.StartTLS(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}); err != nil {
		t.Fatalf("STARTTLS with the CA file, verifying the IP SAN: %v", err)
	}
	if ok, mechs := c.Extension("AUTH"); !ok || mechs != "PLAIN" {
		t.Errorf("AUTH after TLS = %v %q, want PLAIN", ok, mechs)
	}
	if err := c.Auth(smtp.PlainAuth("", "bob", "pw", "127.0.0.1")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	for _, step := range []func() error{
		func() error { return c.Mail("sender@example.com") },
		func() error { return c.Rcpt("r1@example.com") },
		func() error { return c.Rcpt("r2@example.com") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	// "Grüße\nzweite Zeile\n" in base64, split over two lines.
	fmt.Fprint(w, "Subject: b64\r\nContent-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZQp6d2Vp\r\ndGUgWmVpbGUK\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()

	mails := s.WaitMails(t, 1, 5*time.Second)
	got := mails[0]
	if got.From != "sender@example.com" || strings.Join(got.To, ",") != "r1@example.com,r2@example.com" {
		t.Errorf("envelope = %q -> %q, want sender@example.com -> r1, r2", got.From, got.To)
	}
	if !got.TLS || got.Auth != "bob" {
		t.Errorf("TLS, Auth = %v, %q; want true, bob", got.TLS, got.Auth)
	}
	if got.Msg == nil || got.Msg.Header.Get("Subject") != "b64" {
		t.Fatalf("parsed message = %v, want Subject b64; raw %q", got.Msg, got.Raw)
	}
	if want := "Grüße\nzweite Zeile"; got.Text != want {
		t.Errorf("Text = %q, want %q", got.Text, want)
	}
}

func TestSendmailSinkKeepsEveryMessage(t *testing.T) {
	t.Parallel()
	s := NewSendmail(t)
	if !strings.HasSuffix(s.Command, " -t -i") {
		t.Errorf("Command = %q, want it to end in -t -i", s.Command)
	}
	run := func(i int) error {
		cmd := exec.Command("/bin/sh", "-c", s.Command)
		cmd.Stdin = strings.NewReader(fmt.Sprintf("To: r%d@example.com\nFrom: s@example.com\nSubject: m%d\n\nbody %d\n", i, i, i))
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			return fmt.Errorf("run %d: %v: %q", i, err, out)
		}
		return nil
	}
	// In sequence: arrival order is kept.
	for i := range 3 {
		if err := run(i); err != nil {
			t.Fatal(err)
		}
	}
	mails := s.Mails(t)
	for i, m := range mails {
		if m.Msg == nil || m.Msg.Header.Get("Subject") != fmt.Sprint("m", i) || m.Text != fmt.Sprint("body ", i) || m.To[0] != fmt.Sprintf("r%d@example.com", i) || m.From != "s@example.com" {
			t.Errorf("mail %d = %+v, want subject m%d, body \"body %d\", to r%d", i, m, i, i, i)
		}
	}
	// At the same time: none lost, none overwritten.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 3; i < 23; i++ {
		wg.Go(func() { errs <- run(i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	mails = s.WaitMails(t, 23, 5*time.Second)
	seen := map[string]bool{}
	for _, m := range mails {
		seen[m.Msg.Header.Get("Subject")] = true
	}
	if len(mails) != 23 || len(seen) != 23 {
		t.Errorf("got %d mails with %d distinct subjects, want 23", len(mails), len(seen))
	}
	if left, _ := filepath.Glob(filepath.Join(s.Dir, ".incoming.*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

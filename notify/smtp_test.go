package notify_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/notify"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-Pa55"
)

func sendCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSMTPDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		server   svtest.SMTPOptions
		mode     notify.TLSMode
		user     string
		wantTLS  bool
		wantAuth string
	}{
		{"plain", svtest.SMTPOptions{}, notify.TLSNone, "", false, ""},
		{"plain to a server that could STARTTLS", svtest.SMTPOptions{StartTLS: true}, notify.TLSNone, "", false, ""},
		{"starttls", svtest.SMTPOptions{StartTLS: true}, notify.TLSStartTLS, "", true, ""},
		{"starttls and auth", svtest.SMTPOptions{StartTLS: true, Username: testUser, Password: testPassword}, notify.TLSStartTLS, testUser, true, testUser},
		{"implicit tls", svtest.SMTPOptions{ImplicitTLS: true}, notify.TLSImplicit, "", true, ""},
		{"implicit tls and auth", svtest.SMTPOptions{ImplicitTLS: true, Username: testUser, Password: testPassword}, notify.TLSImplicit, testUser, true, testUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := svtest.StartSMTP(t, tt.server)
			tr := &notify.SMTP{Addr: srv.Addr, TLS: tt.mode, TLSConfig: &tls.Config{RootCAs: srv.Roots}, HelloName: "listener.example.com"}
			if tt.user != "" {
				tr.Username, tr.Password = tt.user, testPassword
			}
			m := testMessage()
			if err := tr.Send(sendCtx(t), m); err != nil {
				t.Fatalf("Send() = %v, want nil", err)
			}
			mails := srv.Mails()
			if len(mails) != 1 {
				t.Fatalf("server got %d mails, want 1", len(mails))
			}
			got := mails[0]
			if got.TLS != tt.wantTLS || got.Auth != tt.wantAuth {
				t.Errorf("TLS, Auth = %v, %q; want %v, %q", got.TLS, got.Auth, tt.wantTLS, tt.wantAuth)
			}
			if got.From != "supervisor@example.com" {
				t.Errorf("envelope From = %q, want supervisor@example.com", got.From)
			}
			if want := "ops@example.com jm@example.com"; strings.Join(got.To, " ") != want {
				t.Errorf("envelope To = %q, want %s", got.To, want)
			}
			if got.Text != m.Body {
				t.Errorf("body = %q, want %q", got.Text, m.Body)
			}
			if got.Msg == nil || got.Msg.Header.Get("Subject") == "" {
				t.Fatalf("received message has no Subject: %q", got.Raw)
			}
		})
	}
}

func TestSMTPDefaultTLSConfigVerifies(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true})
	implicit := svtest.StartSMTP(t, svtest.SMTPOptions{ImplicitTLS: true})
	tests := []struct {
		name string
		tr   *notify.SMTP
		want string
	}{
		{"starttls, system roots", &notify.SMTP{Addr: srv.Addr, TLS: notify.TLSStartTLS}, "starttls: tls: failed to verify certificate"},
		{"implicit, system roots", &notify.SMTP{Addr: implicit.Addr, TLS: notify.TLSImplicit}, "dial: tls: failed to verify certificate"},
		{"trusted root, other name", &notify.SMTP{Addr: srv.Addr, TLS: notify.TLSStartTLS, TLSConfig: &tls.Config{RootCAs: srv.Roots, ServerName: "mail.example.com"}}, "valid for localhost, not mail.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tr.Send(sendCtx(t), testMessage())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Send() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if n := len(srv.Mails()) + len(implicit.Mails()); n != 0 {
		t.Errorf("servers got %d mails, want 0", n)
	}
}

// TestSMTPRefusesToDowngrade covers the policy: what was asked for is done
// or nothing is sent.
func TestSMTPRefusesToDowngrade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server svtest.SMTPOptions
		tr     notify.SMTP
		want   []string
	}{
		{
			name:   "starttls required, not offered",
			server: svtest.SMTPOptions{},
			tr:     notify.SMTP{TLS: notify.TLSStartTLS},
			want:   []string{": starttls: server does not offer STARTTLS"},
		},
		{
			name:   "credentials, AUTH offered only after TLS",
			server: svtest.SMTPOptions{StartTLS: true, Username: testUser, Password: testPassword},
			tr:     notify.SMTP{Username: testUser, Password: testPassword},
			want:   []string{": auth: smtp server does not support AUTH"},
		},
		{
			name:   "credentials, server without AUTH",
			server: svtest.SMTPOptions{StartTLS: true},
			tr:     notify.SMTP{TLS: notify.TLSStartTLS, Username: testUser, Password: testPassword},
			want:   []string{": auth: smtp server does not support AUTH"},
		},
		{
			name:   "wrong password",
			server: svtest.SMTPOptions{StartTLS: true, Username: testUser, Password: testPassword},
			tr:     notify.SMTP{TLS: notify.TLSStartTLS, Username: testUser, Password: "wrong-" + testPassword},
			want:   []string{": auth: 535 "},
		},
		{
			name:   "server wants AUTH, no credentials",
			server: svtest.SMTPOptions{StartTLS: true, Username: testUser, Password: testPassword},
			tr:     notify.SMTP{TLS: notify.TLSStartTLS},
			want:   []string{": mail from <supervisor@example.com>: 502 "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := svtest.StartSMTP(t, tt.server)
			tr := tt.tr
			tr.Addr, tr.TLSConfig = srv.Addr, &tls.Config{RootCAs: srv.Roots}
			err := tr.Send(sendCtx(t), testMessage())
			if err == nil {
				t.Fatal("Send() = nil, want an error")
			}
			for _, w := range append(tt.want, "smtp "+srv.Addr+": ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Send() = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q contains the password", err)
			}
			if n := len(srv.Mails()); n != 0 {
				t.Errorf("server got %d mails, want 0", n)
			}
		})
	}
}

func TestSMTPUnavailable(t *testing.T) {
	t.Parallel()
	stalled := svtest.StartSMTP(t, svtest.SMTPOptions{Stall: true})
	refusing := svtest.StartSMTP(t, svtest.SMTPOptions{Refuse: true})
	down := svtest.StartSMTP(t, svtest.SMTPOptions{})
	down.SetDown(true)
	closed := closedPort(t)
	tests := []struct {
		name string
		addr string
		want []string
	}{
		{"never greets", stalled.Addr, []string{": greeting: ", "i/o timeout"}},
		{"refuses service", refusing.Addr, []string{": greeting: 554 "}},
		{"temporarily down", down.Addr, []string{": greeting: 421 "}},
		{"nothing listening", closed, []string{": dial: ", "connection refused"}},
		{"bad address", "localhost", []string{"smtp localhost: address: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := (&notify.SMTP{Addr: tt.addr, Timeout: 500 * time.Millisecond}).Send(sendCtx(t), testMessage())
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Send() took %v, want about the 500ms timeout at most", took)
			}
			if err == nil {
				t.Fatal("Send() = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Send() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func tlsConfigFor(srv *svtest.SMTPServer) *tls.Config { return &tls.Config{RootCAs: srv.Roots} }

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestSMTPRecoversOnSameAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    svtest.SMTPOptions
		break_  func(*svtest.SMTPServer)
		repair  func(*svtest.SMTPServer)
		wantErr string
	}{
		{"down then up", svtest.SMTPOptions{}, func(s *svtest.SMTPServer) { s.SetDown(true) }, func(s *svtest.SMTPServer) { s.SetDown(false) }, "421"},
		{"stalled then unstalled", svtest.SMTPOptions{Stall: true}, func(*svtest.SMTPServer) {}, (*svtest.SMTPServer).Unstall, "i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := svtest.StartSMTP(t, tt.opts)
			tr := &notify.SMTP{Addr: srv.Addr, Timeout: 500 * time.Millisecond}
			tt.break_(srv)
			if err := tr.Send(sendCtx(t), testMessage()); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Send() while broken = %v, want an error containing %q", err, tt.wantErr)
			}
			tt.repair(srv)
			if err := tr.Send(sendCtx(t), testMessage()); err != nil {
				t.Fatalf("Send() after repair = %v, want nil", err)
			}
			if n := len(srv.Mails()); n != 1 {
				t.Errorf("server got %d mails, want 1", n)
			}
		})
	}
}

func TestSMTPContext(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{Stall: true})
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline shorter than Timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, nil},
		{"cancelled mid-session", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			err := (&notify.SMTP{Addr: srv.Addr}).Send(ctx, testMessage())
			if took := time.Since(start); err == nil || took > 5*time.Second {
				t.Fatalf("Send() = %v after %v, want an error after about 300ms", err, took)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Send() = %v, want errors.Is %v", err, tt.want)
			}
		})
	}
}

func TestSMTPRecipients(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{RejectTo: []string{"gone@example.com"}})
	tr := &notify.SMTP{Addr: srv.Addr}

	m := &notify.Message{To: []string{"a@example.com", "B <b@example.com>", "c@example.com"}, From: "sv@example.com", Subject: "s", Body: "b"}
	if err := tr.Send(sendCtx(t), m); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	mails := srv.Mails()
	if len(mails) != 1 || strings.Join(mails[0].To, " ") != "a@example.com b@example.com c@example.com" {
		t.Fatalf("got %d mails, envelope To %q; want 1 to a, b and c", len(mails), mails[0].To)
	}
	if got, _ := mails[0].Msg.Header.AddressList("To"); len(got) != 3 {
		t.Errorf("To header has %d addresses, want 3", len(got))
	}

	// One refused recipient must not cost the others their mail (upstream
	// ignored partial refusals): delivered to a, the refusal reported.
	m.To = []string{"a@example.com", "gone@example.com"}
	err := tr.Send(sendCtx(t), m)
	var refused *notify.RefusedError
	if !errors.As(err, &refused) || strings.Join(refused.Refused, " ") != "gone@example.com" {
		t.Errorf("Send() = %v, want a *RefusedError for gone@example.com", err)
	}
	if want := "rcpt to <gone@example.com>: 550 "; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Send() = %v, want an error containing %q", err, want)
	}
	if mails := srv.Mails(); len(mails) != 2 || strings.Join(mails[1].To, " ") != "a@example.com" {
		t.Errorf("server got %d mails, want a second one to a@example.com only", len(mails))
	}

	// All refused: nothing delivered, a plain error (worth retrying).
	m.To = []string{"gone@example.com"}
	err = tr.Send(sendCtx(t), m)
	if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), "rcpt to <gone@example.com>: 550 ") {
		t.Errorf("Send() to refused recipients only = %v, want a non-RefusedError naming the 550", err)
	}
	if n := len(srv.Mails()); n != 2 {
		t.Errorf("server got %d mails, want still 2", n)
	}

	m.From = ""
	m.To = []string{"a@example.com"}
	if err := tr.Send(sendCtx(t), m); err == nil || !strings.Contains(err.Error(), "no From address") {
		t.Errorf("Send() without From = %v, want an error about the missing From", err)
	}
}

func TestSMTPString(t *testing.T) {
	tests := []struct {
		tr   notify.SMTP
		want string
	}{
		{notify.SMTP{Addr: "mail:25"}, "smtp mail:25"},
		{notify.SMTP{Addr: "mail:587", TLS: notify.TLSStartTLS}, "smtp mail:587 (starttls)"},
		{notify.SMTP{Addr: "mail:465", TLS: notify.TLSImplicit, Username: "alice", Password: "pw"}, "smtp mail:465 (tls, user alice)"},
		{notify.SMTP{Addr: "localhost:25", Username: "alice", Password: "pw"}, "smtp localhost:25 (user alice)"},
		{notify.SMTP{Addr: "mail:25", Username: "alice"}, "smtp mail:25"},
	}
	for _, tt := range tests {
		if got := tt.tr.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// TestSMTPCheck: a password never goes over a connection without TLS,
// except to the local host (as net/smtp's PlainAuth allows); the commands
// refuse such a configuration at start-up.
func TestSMTPCheck(t *testing.T) {
	tests := []struct {
		s       notify.SMTP
		wantErr string
	}{
		{notify.SMTP{Addr: "mail.example.com:25"}, ""},
		{notify.SMTP{Addr: "mail.example.com:25", Username: "u", Password: "s3cr3t-pw", TLS: notify.TLSStartTLS}, ""},
		{notify.SMTP{Addr: "mail.example.com:465", Username: "u", Password: "s3cr3t-pw", TLS: notify.TLSImplicit}, ""},
		{notify.SMTP{Addr: "localhost:25", Username: "u", Password: "s3cr3t-pw"}, ""},
		{notify.SMTP{Addr: "127.0.0.1:25", Username: "u", Password: "s3cr3t-pw"}, ""},
		{notify.SMTP{Addr: "[::1]:25", Username: "u", Password: "s3cr3t-pw"}, ""},
		{notify.SMTP{Addr: "mail.example.com:25", Username: "u", Password: "s3cr3t-pw"}, "would send the password in clear text"},
		{notify.SMTP{Addr: "192.0.2.1:25", Username: "u", Password: "s3cr3t-pw"}, "would send the password in clear text"},
		{notify.SMTP{Addr: "mail.example.com"}, "missing port"},
	}
	for _, tt := range tests {
		err := tt.s.Check()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s (user %q, %v): Check() = %v, want error containing %q", tt.s.Addr, tt.s.Username, tt.s.TLS, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), tt.s.Password) && tt.s.Password != "" {
			t.Errorf("Check() error %q contains the password", err)
		}
	}
}

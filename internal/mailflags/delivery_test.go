package mailflags

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/superlance-go/superlance/notify"
)

// flags returns the flags of a kong grammar as "name short aliases default".
func flags(t *testing.T, grammar any) []string {
	t.Helper()
	k, err := kong.New(grammar, kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range k.Model.Flags {
		if f.Name == "help" {
			continue
		}
		out = append(out, strings.Join([]string{f.Name, string(f.Short), strings.Join(f.Aliases, ","), f.Default, f.Help}, " "))
	}
	slices.Sort(out)
	return out
}

// TestDeliveryIsOptionsWithoutEmail keeps the two in step: a tool embedding
// Delivery has every option of Options but -m, spelled and documented the
// same.
func TestDeliveryIsOptionsWithoutEmail(t *testing.T) {
	var o struct {
		Options `embed:""`
	}
	var d struct {
		Delivery `embed:""`
	}
	want := slices.DeleteFunc(flags(t, &o), func(f string) bool { return strings.HasPrefix(f, "email ") })
	if got := flags(t, &d); !slices.Equal(got, want) {
		t.Errorf("Delivery's flags:\ngot  %q\nwant %q", got, want)
	}
}

func TestDeliveryMail(t *testing.T) {
	def := Delivery{Sendmail: DefaultSendmail, Shared: Shared{SMTPTLS: "none"}}
	m, err := def.Mail(map[string]bool{"email": true}, nil, []string{"a@x", "b@x"})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := m.Transport.(*notify.Sendmail); !ok || s.Command != DefaultSendmail || !slices.Equal(m.To, []string{"a@x", "b@x"}) {
		t.Errorf("got %T %+v to %q, want the default sendmail to both", m.Transport, m.Transport, m.To)
	}
	missing := def
	missing.Sendmail = filepath.Join(t.TempDir(), "nosuch") + " -t"
	if m, err := missing.Mail(nil, nil, []string{"a@x"}); err != nil || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "does not exist") {
		t.Errorf("missing program: got %q, %v; want one warning", m.Warnings, err)
	}
	if m, err := missing.Mail(nil, nil, nil); err != nil || len(m.Warnings) != 0 {
		t.Errorf("missing program, no recipients: got %q, %v; want no warning", m.Warnings, err)
	}
	user := def
	user.SMTPUser = "u"
	if _, err := user.Mail(nil, nil, []string{"a@x"}); err == nil || !strings.Contains(err.Error(), "--smtp-user needs --smtp-host") {
		t.Errorf("user without host: got %v", err)
	}
	smtp := def
	smtp.SMTPHost = "localhost:2525"
	m, err = smtp.Mail(map[string]bool{"smtp-host": true}, nil, []string{"a@x"})
	if s, ok := m.Transport.(*notify.SMTP); err != nil || !ok || s.Addr != "localhost:2525" {
		t.Errorf("smtp: got %T, %v; want SMTP to localhost:2525", m.Transport, err)
	}
	if _, err := smtp.Mail(map[string]bool{"smtp-host": true, "sendmail_program": true}, nil, []string{"a@x"}); err == nil {
		t.Error("-s with --smtp-host: got no error")
	}
}

package alertflags

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOptionsCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "headers")
	os.WriteFile(file, []byte("# tokens\n\nAuthorization: Bearer fromfile\nX-Team: ops\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("Authorization Bearer s3cr3t\n"), 0o600)

	ok := Options{ResolveAfter: 5 * time.Minute, WebhookFormat: "json"}
	tests := []struct {
		name    string
		f       func(*Options)
		wantErr string
	}{
		{"nothing", func(*Options) {}, ""},
		{"webhook with headers", func(f *Options) {
			f.Webhook = []string{"https://hooks.example.com/x"}
			f.WebhookHeader = []string{"X-Token: abc"}
			f.WebhookHeaderFile = file
		}, ""},
		{"header without webhook", func(f *Options) { f.WebhookHeader = []string{"X: y"} }, "need --webhook"},
		{"format without webhook", func(f *Options) { f.WebhookFormat = "slack" }, "--webhook-format needs --webhook"},
		{"bad webhook URL", func(f *Options) { f.Webhook = []string{"ftp://x/y"} }, "scheme must be http or https"},
		{"header without colon", func(f *Options) { f.Webhook = []string{"http://x"}; f.WebhookHeader = []string{"Bearer s3cr3t"} }, "want 'NAME: VALUE'"},
		{"reserved header", func(f *Options) {
			f.Webhook = []string{"http://x"}
			f.WebhookHeader = []string{"Content-Type: text/plain"}
		}, "set by the listener"},
		{"bad header file", func(f *Options) { f.Webhook = []string{"http://x"}; f.WebhookHeaderFile = bad }, "line 1"},
		{"missing header file", func(f *Options) {
			f.Webhook = []string{"http://x"}
			f.WebhookHeaderFile = filepath.Join(dir, "none")
		}, "no such file"},
		{"heartbeat without alertmanager", func(f *Options) { f.Heartbeat = true }, "--heartbeat needs --alertmanager"},
		{"label without alertmanager", func(f *Options) { f.Label = []string{"a=b"} }, "--label needs --alertmanager"},
		{"instance without alertmanager", func(f *Options) { f.Instance = "x" }, "--instance needs --alertmanager"},
		{"reserved label", func(f *Options) { f.Alertmanager = []string{"http://am:9093"}; f.Label = []string{"job=x"} }, "set by the listener"},
		{"label without =", func(f *Options) { f.Alertmanager = []string{"http://am:9093"}; f.Label = []string{"team"} }, "want NAME=VALUE"},
		{"zero resolve-after", func(f *Options) { f.ResolveAfter = 0 }, "positive"},
		{"alertmanager", func(f *Options) {
			f.Alertmanager = []string{"http://am1:9093", "http://am2:9093"}
			f.Label = []string{"team=ops", "env=prod=eu"}
			f.Heartbeat = true
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.f(&f)
			c, err := f.Channels()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Channels: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Channels = %v, want an error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows a header value: %v", err)
			}
			_ = c
		})
	}
	f := ok
	f.Webhook = []string{"http://x"}
	f.WebhookHeader = []string{"X-Token: abc"}
	f.WebhookHeaderFile = file
	f.Alertmanager = []string{"http://am:9093"}
	f.Label = []string{"env=prod=eu"}
	c, err := f.Channels()
	if err != nil {
		t.Fatal(err)
	}
	if c.Header.Get("Authorization") != "Bearer fromfile" || c.Header.Get("X-Token") != "abc" || c.Header.Get("X-Team") != "ops" {
		t.Errorf("headers = %v", c.Header)
	}
	if c.Labels["env"] != "prod=eu" {
		t.Errorf("labels = %v", c.Labels)
	}
}

package alertflags

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/svtest"
)

// TestSendTest: one test alert per channel, each reported, exit 1 as soon
// as one channel did not take it.
func TestSendTest(t *testing.T) {
	var bodies atomic.Int32
	hook := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), `"kind":"test"`) && strings.Contains(string(b), "TEST ALERT") {
				bodies.Add(1)
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	good, bad := hook(http.StatusOK), hook(http.StatusBadRequest)
	var mailed []string
	mail := alert.Func(func(a *alert.Alert) error { mailed = append(mailed, a.Subject); return nil })

	for _, tt := range []struct {
		name     string
		webhooks []string
		mail     alert.Transport
		code     int
		want     []string
	}{
		{"all accept", []string{good.URL}, mail, 0, []string{"test alert via webhook " + good.URL, ": delivered"}},
		{"a webhook refuses", []string{good.URL, bad.URL}, nil, 1, []string{"FAILED", "400 Bad Request"}},
		{"nothing configured", nil, nil, 1, []string{"no channel configured"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs svtest.LockedBuffer
			c, err := (&Options{Webhook: tt.webhooks, WebhookFormat: "json", ResolveAfter: time.Minute}).Channels()
			if err != nil {
				t.Fatal(err)
			}
			code := c.SendTest(context.Background(), "crashmail", tt.mail, log.New(&logs, "crashmail: ", 0))
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, logs.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
		})
	}
	if len(mailed) != 1 || !strings.HasPrefix(mailed[0], "TEST ALERT from crashmail on ") {
		t.Errorf("mailed %q, want one TEST ALERT", mailed)
	}
	if n := bodies.Load(); n != 3 {
		t.Errorf("%d webhook requests carried a test alert, want 3", n)
	}
}

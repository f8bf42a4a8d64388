package superlance

import (
	"testing"
	"time"

	"github.com/superlance-go/superlance/notify"
)

func TestAsctime(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 21, 16, 23, 32, 987654321, time.Local), "2026-11-21 16:23:32,987"},
		{time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.Local), "2026-01-02 03:04:05,999"},
		{time.Date(2026, 1, 2, 3, 4, 5, 1000000, time.Local), "2026-01-02 03:04:05,001"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local), "2026-01-02 03:04:05,000"},
	} {
		if got := Asctime(tt.t); got != tt.want {
			t.Errorf("Asctime(%v): got %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestMailed(t *testing.T) {
	m := &notify.Message{To: []string{"a@x", "b@x"}, From: "f@x", Subject: "s", Body: "line 1\nline 2"}
	if got, want := Mailed(m), "To: a@x, b@x\nSubject: s\n\nline 1\nline 2"; got != want {
		t.Errorf("Mailed: got %q, want %q", got, want)
	}
}

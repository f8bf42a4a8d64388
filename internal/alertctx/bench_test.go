package alertctx

import (
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
)

// BenchmarkSenderPassThrough is what a tool pays per alert without any of
// the options: the Sender hands the alert on at once.
func BenchmarkSenderPassThrough(b *testing.B) {
	s := NewSender(Flags{}, nil, func(alert.Alert) {}, SenderOptions{})
	a := alert.Alert{Kind: alert.Crash, Program: "web", Text: "Process web in group web exited unexpectedly"}
	req := Request{Group: "web", Name: "web", Exit: true, PID: 1}
	b.ReportAllocs()
	for b.Loop() {
		s.Send(a, req)
	}
}

// BenchmarkFloodAllow is one --flood decision on the event loop, for a
// program whose window is full.
func BenchmarkFloodAllow(b *testing.B) {
	clk := NewManualClock(t0)
	f := NewFlood(Limit{3, 10 * time.Minute}, clk, func(Summary[int]) {})
	b.ReportAllocs()
	for b.Loop() {
		f.Allow("web", 1)
	}
}

// BenchmarkTailWorstCase renders the worst tail supervisord can send: 16
// KiB of control characters ending a 1 MiB line.
func BenchmarkTailWorstCase(b *testing.B) {
	text := strings.Repeat("\x01\x7f\u0085", DefaultTailBytes/4) + "\n"
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		makeTail(text, true, 20, DefaultTailBytes)
	}
}

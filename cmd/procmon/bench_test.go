package main

import (
	"context"
	"io"
	"log"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/restart"
)

// noTimer stands in for time.AfterFunc: the benchmark measures the event
// handler's own work, not the runtime's timers.
type noTimer struct{}

func (noTimer) Stop() bool { return true }

func benchMonitor() *monitor {
	cfg := &config{
		programs: []string{"web"},
		policy:   restart.Policy{Threshold: 10 * time.Second, MinDelay: time.Second, MaxDelay: time.Hour},
	}
	m := newMonitor(cfg, nil, log.New(io.Discard, "", 0), func(alert.Alert) {}, eventproto.NewWorker(context.Background()))
	m.afterFunc = func(time.Duration, func()) timer { return noTimer{} }
	return m
}

func stateEvent(name, payload string) eventproto.Event {
	return eventproto.Event{Header: eventproto.Header{EventName: name, Len: len(payload)}, Payload: payload}
}

// BenchmarkHandle measures procmon's handler per event: an event about a
// program it does not watch, and the RUNNING/EXITED pair of a watched
// program (a death recorded and its restart timer armed).
func BenchmarkHandle(b *testing.B) {
	ctx := context.Background()
	b.Run("unwatched", func(b *testing.B) {
		m := benchMonitor()
		ev := stateEvent(eventproto.ProcessStateExited, "processname:other groupname:other from_state:RUNNING expected:0 pid:42")
		for b.Loop() {
			m.handle(ctx, ev)
		}
	})
	b.Run("running+exited", func(b *testing.B) {
		m := benchMonitor()
		running := stateEvent(eventproto.ProcessStateRunning, "processname:web groupname:web from_state:STARTING pid:42")
		exited := stateEvent(eventproto.ProcessStateExited, "processname:web groupname:web from_state:RUNNING expected:0 pid:42")
		for b.Loop() {
			m.handle(ctx, running)
			m.handle(ctx, exited)
		}
	})
}

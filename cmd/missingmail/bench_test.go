package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"testing"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/episode"
)

// BenchmarkHandle is what the event loop does with one PROCESS_STATE
// event before acknowledging it: parse the payload, check the selection,
// record the state change (a watched program of 200 going down and coming
// back) or ignore it (a program not watched).
func BenchmarkHandle(b *testing.B) {
	discard := log.New(io.Discard, "", 0)
	for _, bc := range []struct {
		name, group string
	}{{"watched", "app"}, {"unwatched", "other"}} {
		b.Run(bc.name, func(b *testing.B) {
			m := &missingmail{
				cfg:     &config{sel: selection{groups: map[string]bool{"app": true}}},
				log:     discard,
				tracker: episode.New(episode.Config{Timeout: time.Hour, Now: time.Now}),
			}
			events := make([]eventproto.Event, 400)
			for i := range events {
				name, payload := eventproto.ProcessStateExited, fmt.Sprintf("processname:p%03d groupname:%s from_state:RUNNING expected:0 pid:%d", i%200, bc.group, 1000+i)
				if i >= 200 {
					name, payload = eventproto.ProcessStateRunning, fmt.Sprintf("processname:p%03d groupname:%s from_state:STARTING pid:%d", i%200, bc.group, 1000+i)
				}
				events[i] = eventproto.Event{Header: eventproto.Header{EventName: name, Len: len(payload)}, Payload: payload}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m.handle(context.Background(), events[i%len(events)])
			}
			if open, _ := m.tracker.Open(); bc.name == "unwatched" && open != 0 {
				b.Fatalf("unwatched events opened %d episodes", open)
			}
		})
	}
}

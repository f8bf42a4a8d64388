package eventproto

import (
	"io"
	"testing"
)

// repeatReader returns the same bytes over and over: a stdin on which
// supervisord always has the next event ready.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

var benchEvents = []struct{ name, event string }{
	{"tick", "ver:3.0 server:supervisor serial:15 pool:dump poolserial:15 eventname:TICK_5 len:15\nwhen:1795278005"},
	{"exited", "ver:3.0 server:supervisor serial:26 pool:dump poolserial:26 eventname:PROCESS_STATE_EXITED len:76\n" +
		"processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:8802"},
	{"non-ascii", "ver:3.0 server:supervisor serial:57 pool:dump poolserial:57 eventname:PROCESS_COMMUNICATION_STDOUT len:48\n" +
		"processname:comm groupname:comm pid:10179\ncafé ✓"},
}

// BenchmarkListener measures events per second through Next and OK, the
// cost a listener pays for every event before its own policy runs.
// "repeat" is the protocol code alone; "pipe" adds the lock-step exchange
// with a peer playing supervisord over in-memory pipes.
func BenchmarkListener(b *testing.B) {
	for _, be := range benchEvents {
		b.Run("repeat/"+be.name, func(b *testing.B) {
			// poolserial never moves, so every event after the first is
			// also a Repeat: the tracking code runs its full path.
			l := NewListener(&repeatReader{data: []byte(be.event)}, io.Discard)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Next(); err != nil {
					b.Fatal(err)
				}
				if err := l.OK(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	b.Run("pipe/exited", func(b *testing.B) {
		event := []byte(benchEvents[1].event)
		stdinR, stdinW := io.Pipe()
		stdoutR, stdoutW := io.Pipe()
		go func() { // supervisord: wait for READY, send, wait for RESULT
			buf := make([]byte, 64)
			for {
				if _, err := io.ReadFull(stdoutR, buf[:len("READY\n")]); err != nil {
					stdinW.Close()
					return
				}
				if _, err := stdinW.Write(event); err != nil {
					return
				}
				if _, err := io.ReadFull(stdoutR, buf[:len("RESULT 2\nOK")]); err != nil {
					stdinW.Close()
					return
				}
			}
		}()
		defer stdoutW.Close()
		l := NewListener(stdinR, stdoutW)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Next(); err != nil {
				b.Fatal(err)
			}
			if err := l.OK(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

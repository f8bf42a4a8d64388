package eventproto

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzListener feeds arbitrary bytes to a Listener as stdin and every
// payload (and the raw input) to the payload parsers. Nothing may panic,
// and what Next returns must keep its promises.
func FuzzListener(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.txt"))
	more, _ := filepath.Glob(filepath.Join(eventsDir, "cross-pool", "*.txt"))
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("ver:3.0 len:3\n\xe2\x82"))
	f.Add([]byte("ver:3.0 len:2\n\xf0\x9d\x84x"))

	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		l := NewListener(bytes.NewReader(data), &out)
		events := 0
		for {
			ev, err := l.Next()
			if err != nil {
				var pe *ProtocolError
				if err != io.EOF && !errors.As(err, &pe) {
					t.Fatalf("Next = %v, want io.EOF or a *ProtocolError", err)
				}
				if pe != nil && len(pe.Data) > maxQuoted {
					t.Fatalf("ProtocolError quotes %d bytes, want at most %d", len(pe.Data), maxQuoted)
				}
				break
			}
			events++
			if n := utf8.RuneCountInString(ev.Payload); n != ev.Header.Len {
				t.Fatalf("payload %q has %d characters, header len %d", ev.Payload, n, ev.Header.Len)
			}
			if ev.Missed < 0 {
				t.Fatalf("Missed = %d", ev.Missed)
			}
			parseAll(ev.Payload)
			TickPeriod(ev.Name())
			if err := l.OK(); err != nil {
				t.Fatal(err)
			}
		}
		if want := events*len("READY\nRESULT 2\nOK") + len("READY\n"); out.Len() != want {
			t.Fatalf("stdout has %d bytes for %d events, want %d", out.Len(), events, want)
		}
		parseAll(string(data))
		TickPeriod(string(data))
	})
}

func parseAll(s string) {
	ParseProcessState(s)
	ParseTick(s)
	ParseProcessLog(s)
	ParseProcessCommunication(s)
	ParseRemoteCommunication(s)
	ParseProcessGroup(s)
}

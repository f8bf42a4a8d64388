package eventproto

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// hdr builds a header line like supervisord's for pool "p".
func hdr(serial, poolserial int, name, payload string) string {
	return "ver:3.0 server:supervisor serial:" + itoa(serial) + " pool:p poolserial:" + itoa(poolserial) +
		" eventname:" + name + " len:" + itoa(len([]rune(payload))) + "\n" + payload
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestTranscript checks the exact bytes on stdout for a scripted stdin:
// READY before each event, OK and FAIL as answered, READY before the EOF.
func TestTranscript(t *testing.T) {
	stdin := hdr(1, 1, "TICK_5", "when:1795278005") +
		hdr(2, 2, "REMOTE_COMMUNICATION", "type:x\ny") +
		hdr(2, 2, "REMOTE_COMMUNICATION", "type:x\ny") +
		hdr(3, 3, "SUPERVISOR_STATE_CHANGE_STOPPING", "")
	var out bytes.Buffer
	l := NewListener(strings.NewReader(stdin), &out)
	answers := []func() error{l.OK, l.Fail, l.OK, l.OK}
	for i, answer := range answers {
		if _, err := l.Next(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if err := answer(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Next(); err != io.EOF {
		t.Fatalf("Next at end = %v, want io.EOF", err)
	}
	want := "READY\nRESULT 2\nOK" + "READY\nRESULT 4\nFAIL" + "READY\nRESULT 2\nOK" + "READY\nRESULT 2\nOK" + "READY\n"
	if out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
}

// writeRecorder records each Write call and each Flush separately.
type writeRecorder struct {
	writes  []string
	flushes int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *writeRecorder) Flush() error { w.flushes++; return nil }

func TestOneWritePerMessageAndFlush(t *testing.T) {
	var w writeRecorder
	l := NewListener(strings.NewReader(hdr(0, 0, "TICK_5", "when:5")), &w)
	if _, err := l.Next(); err != nil {
		t.Fatal(err)
	}
	if err := l.OK(); err != nil {
		t.Fatal(err)
	}
	want := []string{"READY\n", "RESULT 2\nOK"}
	if strings.Join(w.writes, "|") != strings.Join(want, "|") || w.flushes != 2 {
		t.Errorf("writes %q with %d flushes, want %q with 2", w.writes, w.flushes, want)
	}
}

// TestBufferedStdout: a bufio.Writer as stdout is flushed after every
// message, or supervisord would wait for READY forever.
func TestBufferedStdout(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	l := NewListener(strings.NewReader(""), bw)
	if _, err := l.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if out.String() != "READY\n" {
		t.Errorf("stdout = %q, want READY flushed", out.String())
	}
}

// TestSplitReads delivers stdin one byte per Read, splitting every
// multi-byte character, and in random-sized chunks.
func TestSplitReads(t *testing.T) {
	payload := "processname:comm groupname:comm pid:1\ncafé ✓ 𝄞 日本"
	stdin := hdr(1, 1, ProcessCommunicationStdout, payload) + hdr(2, 2, "TICK_5", "when:10")
	readers := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"whole":    func(r io.Reader) io.Reader { return r },
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			l := NewListener(wrap(strings.NewReader(stdin)), io.Discard)
			ev, err := l.Next()
			if err != nil || ev.Payload != payload {
				t.Fatalf("got %q, %v; want %q", ev.Payload, err, payload)
			}
			l.OK()
			ev, err = l.Next()
			if err != nil || ev.Payload != "when:10" {
				t.Fatalf("second event: got %q, %v; want when:10", ev.Payload, err)
			}
		})
	}
}

// TestPayloadNotOverread: after the payload supervisord sends nothing until
// READY, so reading must stop exactly at the last character, even a
// multi-byte one, without waiting for more.
func TestPayloadNotOverread(t *testing.T) {
	for _, payload := range []string{"when:5", "é", "x✓", "𝄞", ""} {
		pr, pw := io.Pipe()
		go pw.Write([]byte(hdr(1, 1, "X", payload))) // then stays open: no EOF
		l := NewListener(pr, io.Discard)
		ev, err := l.Next()
		if err != nil || ev.Payload != payload {
			t.Errorf("got %q, %v; want %q", ev.Payload, err, payload)
		}
		pw.Close()
	}
}

func TestHeaderTokens(t *testing.T) {
	// Order is not guaranteed; unknown tokens are kept; extra spaces are harmless.
	stdin := "len:4 eventname:MY_EVENT  poolserial:9 future:yes pool:web serial:12 server:a:b ver:3.0\nabcd"
	l := NewListener(strings.NewReader(stdin), io.Discard)
	ev, err := l.Next()
	if err != nil {
		t.Fatal(err)
	}
	h := ev.Header
	if h.Ver != "3.0" || h.Server != "a:b" || h.Serial != 12 || h.Pool != "web" || h.PoolSerial != 9 ||
		h.EventName != "MY_EVENT" || h.Len != 4 || ev.Payload != "abcd" {
		t.Errorf("got %+v payload %q", h, ev.Payload)
	}
	if h.Line != strings.SplitN(stdin, "\n", 2)[0] {
		t.Errorf("Line = %q, want the header line", h.Line)
	}
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{{"future", "yes", true}, {"server", "a:b", true}, {"len", "4", true}, {"missing", "", false}, {"", "", false}} {
		if got, ok := h.Token(tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Token(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if ev.IsTick() {
		t.Error("MY_EVENT is a tick")
	}
}

func TestProtocolErrors(t *testing.T) {
	long := "ver:3.0 x:" + strings.Repeat("a", MaxHeaderLine) + " len:0\n"
	tests := []struct {
		name     string
		stdin    string
		wantMsg  string
		wantData string // the offending bytes, at most 200
	}{
		{"missing len", "ver:3.0 serial:1 eventname:TICK_5\nwhen:1", "malformed header: missing len", "ver:3.0 serial:1 eventname:TICK_5"},
		{"negative len", "eventname:X len:-5\n", "malformed header: invalid len", "eventname:X len:-5"},
		{"non-integer len", "eventname:X len:abc\n", "malformed header: invalid len", "eventname:X len:abc"},
		{"plus sign len", "eventname:X len:+5\nabcde", "malformed header: invalid len", "eventname:X len:+5"},
		{"huge len", "eventname:X len:99999999999999999999999\n", "malformed header: invalid len", "eventname:X len:99999999999999999999999"},
		{"len over bound", "eventname:X len:16777217\n", "malformed header: len too large", "eventname:X len:16777217"},
		{"duplicate len", "len:1 len:2\nab", "malformed header: duplicate len", "len:1 len:2"},
		{"token without colon", "ver:3.0 garbage len:0\n", "malformed header: token without ':'", "ver:3.0 garbage len:0"},
		{"invalid serial", "serial:x len:0\n", "malformed header: invalid serial", "serial:x len:0"},
		{"invalid poolserial", "poolserial:-1 len:0\n", "malformed header: invalid poolserial", "poolserial:-1 len:0"},
		{"empty line", "\n", "malformed header: missing len", ""},
		{"CRLF", "eventname:X len:0\r\n", "malformed header: invalid len", "eventname:X len:0\r"},
		{"short payload", "ver:3.0 eventname:X len:10\nabc", "short payload: got 3 of 10 characters", "ver:3.0 eventname:X len:10\nabc"},
		{"short payload counts characters", "ver:3.0 eventname:X len:3\néé", "short payload: got 2 of 3 characters", "ver:3.0 eventname:X len:3\néé"},
		{"EOF right after header", "ver:3.0 eventname:X len:1\n", "short payload: got 0 of 1 characters", "ver:3.0 eventname:X len:1\n"},
		{"EOF mid-header", "ver:3.0 serial:1 len:1", "malformed header: EOF in header line", "ver:3.0 serial:1 len:1"},
		{"header line too long", long, "malformed header: line too long", long[:200]},
		{"header line too long without newline", strings.Repeat("x", MaxHeaderLine+10), "malformed header: line too long", strings.Repeat("x", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			l := NewListener(strings.NewReader(tt.stdin), &out)
			_, err := l.Next()
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("Next = %v, want a *ProtocolError", err)
			}
			if pe.Msg != tt.wantMsg {
				t.Errorf("Msg = %q, want %q", pe.Msg, tt.wantMsg)
			}
			if string(pe.Data) != tt.wantData {
				t.Errorf("Data = %q, want %q", pe.Data, tt.wantData)
			}
			if !strings.HasPrefix(err.Error(), "eventproto: "+tt.wantMsg+": \"") {
				t.Errorf("Error() = %q, want it to start with %q and quote the data", err, "eventproto: "+tt.wantMsg)
			}
			// The stream is unusable now: no second READY.
			if _, err2 := l.Next(); err2 != err {
				t.Errorf("second Next = %v, want the same error", err2)
			}
			if out.String() != "READY\n" {
				t.Errorf("stdout = %q, want one READY", out.String())
			}
		})
	}
}

func TestProtocolErrorString(t *testing.T) {
	err := &ProtocolError{Msg: "malformed header: missing len", Data: []byte("ver:3.0 \x00x\"")}
	want := `eventproto: malformed header: missing len: "ver:3.0 \x00x\""`
	if err.Error() != want {
		t.Errorf("Error() = %s, want %s", err.Error(), want)
	}
}

func TestAnswerOrder(t *testing.T) {
	var out bytes.Buffer
	l := NewListener(strings.NewReader(hdr(1, 1, "TICK_5", "when:5")+hdr(2, 2, "TICK_5", "when:10")), &out)
	if err := l.OK(); err == nil {
		t.Error("OK before any event succeeded")
	}
	if _, err := l.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Next(); err == nil {
		t.Error("Next before answering succeeded")
	}
	if err := l.Fail(); err != nil {
		t.Fatal(err)
	}
	if err := l.OK(); err == nil {
		t.Error("second answer to one event succeeded")
	}
	if want := "READY\nRESULT 4\nFAIL"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteError(t *testing.T) {
	l := NewListener(strings.NewReader(hdr(1, 1, "TICK_5", "when:5")), failWriter{})
	_, err := l.Next()
	if err == nil || !strings.Contains(err.Error(), "writing READY: broken pipe") {
		t.Errorf("Next = %v, want the write error", err)
	}
}

// TestPoolSerialTracking covers what the captures cannot show: gaps
// (supervisord's buffer overflowed), resets, and a cross-pool duplicate
// that arrives after newer events.
func TestPoolSerialTracking(t *testing.T) {
	type want struct {
		missed int64
		repeat bool
	}
	ev := func(pool string, serial, poolserial int) string {
		return "ver:3.0 server:supervisor serial:" + itoa(serial) + " pool:" + pool + " poolserial:" + itoa(poolserial) +
			" eventname:TICK_5 len:6\nwhen:5"
	}
	tests := []struct {
		name  string
		stdin []string
		want  []want
	}{
		{"first event of a pool never counts as a gap",
			[]string{ev("p", 40, 40)}, []want{{0, false}}},
		{"gap",
			[]string{ev("p", 1, 1), ev("p", 2, 2), ev("p", 7, 7)}, []want{{}, {}, {4, false}}},
		{"redelivery",
			[]string{ev("p", 1, 1), ev("p", 1, 1), ev("p", 2, 2)}, []want{{}, {0, true}, {}}},
		{"late cross-pool duplicate",
			[]string{ev("p", 1, 1), ev("p", 2, 2), ev("p", 3, 3), ev("p", 1, 1), ev("p", 4, 4)},
			[]want{{}, {}, {}, {0, true}, {}}},
		{"reset after reload: serial keeps growing, poolserial restarts",
			[]string{ev("p", 10, 10), ev("p", 11, 11), ev("p", 12, 0), ev("p", 13, 1), ev("p", 15, 3)},
			[]want{{}, {}, {}, {}, {1, false}}},
		{"pools are tracked separately",
			[]string{ev("a", 1, 1), ev("b", 2, 1), ev("a", 3, 2), ev("b", 5, 3)},
			[]want{{}, {}, {}, {1, false}}},
		{"no poolserial, no tracking",
			[]string{"ver:3.0 len:0\n", "ver:3.0 len:0\n"}, []want{{}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewListener(strings.NewReader(strings.Join(tt.stdin, "")), io.Discard)
			for i, w := range tt.want {
				ev, err := l.Next()
				if err != nil {
					t.Fatal(err)
				}
				if ev.Missed != w.missed || ev.Repeat != w.repeat {
					t.Errorf("event %d: Missed %d Repeat %v, want %d %v", i, ev.Missed, ev.Repeat, w.missed, w.repeat)
				}
				l.OK()
			}
		})
	}
}

func TestEventIsTick(t *testing.T) {
	for name, want := range map[string]bool{"TICK_5": true, "TICK_3600": true, "TICK": false, "PROCESS_STATE_RUNNING": false, "": false} {
		if got := (Event{Header: Header{EventName: name}}).IsTick(); got != want {
			t.Errorf("IsTick(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLongestHeaderAccepted(t *testing.T) {
	line := "ver:3.0 len:1 x:"
	line += strings.Repeat("a", MaxHeaderLine-len(line))
	l := NewListener(strings.NewReader(line+"\nz"), io.Discard)
	ev, err := l.Next()
	if err != nil || ev.Payload != "z" || len(ev.Header.Line) != MaxHeaderLine {
		t.Errorf("Next = %q, %v; want a %d-byte header accepted", ev.Payload, err, MaxHeaderLine)
	}
}

// TestShortLenDesync: a len smaller than the payload that follows leaves
// the rest of the payload to be read as the next header. That must end the
// stream with a ProtocolError, not pass a merged header off as an event.
func TestShortLenDesync(t *testing.T) {
	state := "processname:cat groupname:cat from_state:STARTING pid:123"
	tests := []struct {
		name, first string
	}{
		// The tail of the payload is glued to the next header's ver token.
		{"tail glued to ver", strings.Replace(hdr(1, 1, "PROCESS_STATE_RUNNING", state), "len:57", "len:50", 1)},
		// Log data with a newline: the rest of its first line is read as a header.
		{"log data with a newline", strings.Replace(hdr(1, 1, "PROCESS_LOG_STDOUT", "processname:a groupname:a pid:1 channel:stdout\nline one\nline two"), "len:64", "len:52", 1)},
		// Only a rest made of whole key:value tokens and a trailing space
		// would pass, as unknown tokens of a complete header: supervisord
		// payloads do not end in a space, except a log line that does.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := tt.first + hdr(2, 2, "TICK_5", "when:5")
			l := NewListener(strings.NewReader(stdin), io.Discard)
			if _, err := l.Next(); err != nil {
				t.Fatalf("first Next = %v, want the (cut) first event", err)
			}
			if err := l.OK(); err != nil {
				t.Fatal(err)
			}
			ev, err := l.Next()
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("second Next = %+v, %v; want a *ProtocolError", ev.Header, err)
			}
			if !strings.Contains(pe.Msg, "out of step") && !strings.Contains(pe.Msg, "without ':'") {
				t.Errorf("Msg = %q, want it to say the stream is out of step", pe.Msg)
			}
		})
	}
}

// TestServeEndsOnDesync: Serve stops with the error instead of going on
// with misread events.
func TestServeEndsOnDesync(t *testing.T) {
	state := "processname:cat groupname:cat from_state:STARTING pid:123"
	stdin := strings.Replace(hdr(1, 1, "PROCESS_STATE_RUNNING", state), "len:57", "len:53", 1) +
		hdr(2, 2, "TICK_5", "when:5") + hdr(3, 3, "TICK_5", "when:10")
	var seen []string
	err := Serve(t.Context(), NewListener(strings.NewReader(stdin), io.Discard), func(_ context.Context, ev Event) {
		seen = append(seen, ev.Name())
	}, ServeOptions{})
	var pe *ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "out of step") {
		t.Fatalf("Serve = %v, want a ProtocolError saying the stream is out of step", err)
	}
	if len(seen) != 1 || seen[0] != "PROCESS_STATE_RUNNING" {
		t.Errorf("handled %q, want only the first event", seen)
	}
}

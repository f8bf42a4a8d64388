package eventproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The protocol messages, each written with one Write call so that a
// message never reaches supervisord in pieces from two writes.
var (
	msgReady = []byte("READY\n")
	msgOK    = []byte("RESULT 2\nOK")
	msgFail  = []byte("RESULT 4\nFAIL")
	// msgOKReady is OK and the next READY in one write: one syscall per
	// event instead of two when the loop goes straight on to the next
	// event. supervisord parses the bytes, not the writes.
	msgOKReady = []byte("RESULT 2\nOKREADY\n")
)

var (
	errUnanswered = errors.New("eventproto: Next called before the previous event was answered with OK or Fail")
	errNoEvent    = errors.New("eventproto: no event to answer")
)

// Listener speaks the listener side of the protocol over r and w.
//
// A Listener is not safe for concurrent use. Serve reads, handles and
// answers in one goroutine of its own, so a Listener given to Serve must
// not be used by anything else, during Serve or after it returns.
type Listener struct {
	r     *bufio.Reader
	w     io.Writer
	flush func() error // w's Flush, when w buffers

	buf   []byte // header line, '\n' and payload of the event being read
	busy  bool   // an event was returned and is not answered yet
	ready bool   // READY went out with the last answer; the next Next only reads
	err   error  // the first read or write error; the stream is unusable after it

	pools map[string]*poolState
}

// NewListener returns a Listener reading events from r and writing
// READY/RESULT to w.
func NewListener(r io.Reader, w io.Writer) *Listener {
	l := &Listener{
		r:     bufio.NewReaderSize(r, 4096),
		w:     w,
		pools: make(map[string]*poolState, 1),
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		l.flush = f.Flush
	}
	return l
}

// Next writes READY, then reads and returns one event. It returns io.EOF
// when stdin ends cleanly between events, and a *ProtocolError for a
// malformed header or a short payload.
//
// Every event must be answered with OK or Fail before the next call. After
// an error the stream cannot be resynchronised: Next keeps returning that
// error and writes nothing more.
func (l *Listener) Next() (Event, error) {
	if l.err != nil {
		return Event{}, l.err
	}
	if l.busy {
		return Event{}, errUnanswered
	}
	if !l.ready {
		if err := l.write(msgReady, "READY"); err != nil {
			return Event{}, err
		}
	}
	l.ready = false
	ev, tracked, err := l.read()
	if err != nil {
		l.err = err
		return Event{}, err
	}
	l.busy = true
	if tracked {
		l.track(&ev)
	}
	return ev, nil
}

// OK acknowledges the current event (RESULT 2\nOK).
func (l *Listener) OK() error { return l.answer(msgOK, "RESULT OK") }

// Fail rejects the current event (RESULT 4\nFAIL); supervisord redelivers it.
func (l *Listener) Fail() error { return l.answer(msgFail, "RESULT FAIL") }

// okReady acknowledges the current event and writes the READY for the
// next one in the same write; the following Next then only reads. Serve
// uses it when it is about to call Next anyway.
func (l *Listener) okReady() error {
	if err := l.answer(msgOKReady, "RESULT OK"); err != nil {
		return err
	}
	l.ready = true
	return nil
}

func (l *Listener) answer(msg []byte, what string) error {
	if l.err != nil {
		return l.err
	}
	if !l.busy {
		return errNoEvent
	}
	l.busy = false
	return l.write(msg, what)
}

func (l *Listener) write(msg []byte, what string) error {
	_, err := l.w.Write(msg)
	if err == nil && l.flush != nil {
		err = l.flush()
	}
	if err != nil {
		l.err = fmt.Errorf("eventproto: writing %s: %w", what, err)
		return l.err
	}
	return nil
}

// read reads one header line and its payload, and reports whether the
// header has what poolserial tracking needs.
func (l *Listener) read() (Event, bool, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, chunk...)
		if err == nil {
			break
		}
		if len(l.buf) > MaxHeaderLine {
			return Event{}, false, protocolError("malformed header: line too long", l.buf)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(l.buf) == 0:
			return Event{}, false, io.EOF
		case err == io.EOF:
			return Event{}, false, protocolError("malformed header: EOF in header line", l.buf)
		default:
			return Event{}, false, fmt.Errorf("eventproto: reading header: %w", err)
		}
	}
	hlen := len(l.buf) - 1
	if hlen > MaxHeaderLine {
		return Event{}, false, protocolError("malformed header: line too long", l.buf)
	}

	// Validate the header and learn len before reading the payload.
	h, tracked, err := parseHeader(string(l.buf[:hlen]))
	if err != nil {
		return Event{}, false, err
	}
	if err := l.readChars(h.Len); err != nil {
		return Event{}, false, err
	}
	payload := string(l.buf[hlen+1:])
	if cap(l.buf) > 64<<10 {
		l.buf = nil // do not keep a rare huge event's buffer for the process lifetime
	}
	return Event{Header: h, Payload: payload}, tracked, nil
}

// readChars appends n characters (code points) of payload to l.buf.
//
// supervisord counts len in Python str characters and sends UTF-8, so a
// character is one to four bytes. A byte that does not start a valid UTF-8
// sequence counts as one character, as in utf8.DecodeRune: the count then
// matches utf8.RuneCountInString of the payload. Reading never asks for
// more bytes than the characters still owed can need, because supervisord
// sends nothing after the payload until the listener writes READY.
func (l *Listener) readChars(n int) error {
	want := n
	for n > 0 {
		if l.r.Buffered() == 0 {
			if _, err := l.r.Peek(1); err != nil {
				return l.shortPayload(want, n, err)
			}
		}
		buf, _ := l.r.Peek(l.r.Buffered())
		i := 0
		for i < len(buf) && n > 0 {
			if buf[i] < utf8.RuneSelf {
				i++
				n--
				continue
			}
			if !utf8.FullRune(buf[i:]) {
				break
			}
			_, size := utf8.DecodeRune(buf[i:])
			i += size
			n--
		}
		if i == 0 {
			// buf starts with the first bytes of a multi-byte character:
			// wait for the rest, which its first byte promises.
			more, err := l.r.Peek(len(buf) + 1)
			switch {
			case err == io.EOF && len(more) > 0:
				i, n = 1, n-1 // a truncated sequence at the very end is one invalid character
			case err != nil:
				return l.shortPayload(want, n, err)
			default:
				continue
			}
		}
		l.buf = append(l.buf, buf[:i]...)
		l.r.Discard(i)
	}
	return nil
}

func (l *Listener) shortPayload(want, left int, err error) error {
	if err != io.EOF {
		return fmt.Errorf("eventproto: reading payload: %w", err)
	}
	msg := fmt.Sprintf("short payload: got %d of %d characters", want-left, want)
	// Quote the header line and the start of the payload: the header says
	// which event was cut.
	return protocolError(msg, l.buf)
}

// recentSerials is how many deliveries per pool are remembered to
// recognise a late cross-pool duplicate (see track).
const recentSerials = 64

// maxPools bounds the tracking state. A listener process belongs to one
// pool, so more pools can only come from a stream that is not supervisord.
const maxPools = 64

type serialPair struct{ serial, poolSerial int64 }

type poolState struct {
	last   int64 // highest poolserial delivered since the last reset
	recent [recentSerials]serialPair
	next   int // where recent gets the next pair
	filled int // how many entries of recent are valid
}

func (p *poolState) remember(serial, poolSerial int64) {
	p.recent[p.next] = serialPair{serial, poolSerial}
	p.next = (p.next + 1) % recentSerials
	p.filled = min(p.filled+1, recentSerials)
}

func (p *poolState) seen(serial, poolSerial int64) bool {
	for _, sp := range p.recent[:p.filled] {
		if sp == (serialPair{serial, poolSerial}) {
			return true
		}
	}
	return false
}

// track sets ev.Missed and ev.Repeat from the pool's poolserial history,
// for an event whose header has pool and poolserial.
//
// supervisord numbers the events of a pool with poolserial when they enter
// the pool, and a redelivered event keeps its serial and poolserial. So:
//   - poolserial == last: the same event again (after FAIL, or after a
//     listener died while busy; a restarted listener process starts with no
//     history and cannot tell).
//   - poolserial > last+1: the events in between were dropped, normally by
//     a pool's buffer overflow.
//   - poolserial < last: either a cross-pool duplicate (a FAIL in another
//     pool re-queues the event in this pool too, ahead of newer ones, with
//     its original serial and poolserial) or a poolserial reset (the pool
//     was recreated by a reload). A duplicate matches a recent (serial,
//     poolserial) pair exactly; a reset cannot, because the global serial
//     survives a reload and keeps growing. Anything not recognised is a
//     reset: neither gap nor repeat.
//
// A cross-pool duplicate of an event the pool never had (a pool that is not
// even subscribed to it) gets a fresh poolserial and looks like a new event;
// nothing in the protocol tells it apart.
func (l *Listener) track(ev *Event) {
	h := &ev.Header
	p := l.pools[h.Pool]
	if p == nil {
		if len(l.pools) >= maxPools {
			clear(l.pools)
		}
		p = &poolState{last: h.PoolSerial}
		// Clone: h.Pool points into the event's header line.
		l.pools[strings.Clone(h.Pool)] = p
		p.remember(h.Serial, h.PoolSerial)
		return
	}
	switch {
	case h.PoolSerial == p.last:
		ev.Repeat = true
	case h.PoolSerial > p.last:
		ev.Missed = h.PoolSerial - p.last - 1
		p.last = h.PoolSerial
		p.remember(h.Serial, h.PoolSerial)
	case p.seen(h.Serial, h.PoolSerial):
		ev.Repeat = true
	default:
		*p = poolState{last: h.PoolSerial}
		p.remember(h.Serial, h.PoolSerial)
	}
}

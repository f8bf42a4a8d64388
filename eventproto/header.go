package eventproto

import (
	"math"
	"strings"
)

// Bounds on what one event may occupy, so that garbage on stdin (a wrong
// program wired as a listener, a corrupted stream) fails fast with a
// ProtocolError instead of exhausting memory. Real headers are about 100
// bytes; real payloads are bounded by supervisord's capture and log buffers.
const (
	// MaxHeaderLine is the longest header line accepted, without its '\n'.
	MaxHeaderLine = 64 << 10
	// MaxPayloadChars is the largest len accepted, in characters.
	MaxPayloadChars = 16 << 20
)

// Known header keys, as bits, to refuse a key that appears twice.
const (
	seenVer = 1 << iota
	seenServer
	seenSerial
	seenPool
	seenPoolSerial
	seenEventName
	seenLen
)

// The Header fields that are strings, for tokenSpan.field.
const (
	fieldOther = iota
	fieldVer
	fieldServer
	fieldPool
	fieldEventName
)

// tokenSpan is where one key:value token lies in a header line. The line
// is cut into tokens once, from the read buffer, before the payload is in;
// the Header's strings are made from the spans afterwards, as substrings of
// the event's one string.
type tokenSpan struct {
	start, colon, end int
	field             uint8
}

// parseHeader parses one header line (without its '\n') as a set of
// key:value tokens: supervisord does not guarantee their order. len and ver
// must be there: supervisord always sends both. It returns
// the numbers (Serial, PoolSerial, Len), appends the place of every token to
// spans, and reports whether both pool and poolserial were there, the two
// tokens poolserial tracking needs. The string fields are left
// for fill: line may be a view of a buffer that is about to be reused.
func parseHeader(line string, spans []tokenSpan) (Header, []tokenSpan, bool, error) {
	var h Header
	seen := 0
	for i := 0; i < len(line); {
		end := strings.IndexByte(line[i:], ' ')
		if end < 0 {
			end = len(line)
		} else {
			end += i
		}
		tok := line[i:end]
		start := i
		i = end + 1
		if tok == "" {
			continue
		}
		colon := strings.IndexByte(tok, ':')
		if colon < 0 {
			return Header{}, spans, false, malformedHeader("token without ':'", line)
		}
		k, v := tok[:colon], tok[colon+1:]
		bit, field := 0, uint8(fieldOther)
		var ok bool
		switch k {
		case "ver":
			bit, field = seenVer, fieldVer
		case "server":
			bit, field = seenServer, fieldServer
		case "pool":
			bit, field = seenPool, fieldPool
		case "eventname":
			bit, field = seenEventName, fieldEventName
		case "serial":
			bit = seenSerial
			if h.Serial, ok = parseCount(v); !ok {
				return Header{}, spans, false, malformedHeader("invalid serial", line)
			}
		case "poolserial":
			bit = seenPoolSerial
			if h.PoolSerial, ok = parseCount(v); !ok {
				return Header{}, spans, false, malformedHeader("invalid poolserial", line)
			}
		case "len":
			bit = seenLen
			n, ok := parseCount(v)
			if !ok {
				return Header{}, spans, false, malformedHeader("invalid len", line)
			}
			if n > MaxPayloadChars {
				return Header{}, spans, false, malformedHeader("len too large", line)
			}
			h.Len = int(n)
		}
		if seen&bit != 0 {
			// Two len tokens would make the framing ambiguous; refuse
			// every repeated known key rather than pick one.
			return Header{}, spans, false, malformedHeader("duplicate "+k, line)
		}
		seen |= bit
		spans = append(spans, tokenSpan{start: start, colon: start + colon, end: end, field: field})
	}
	if seen&seenLen == 0 {
		return Header{}, spans, false, malformedHeader("missing len", line)
	}
	if seen&seenVer == 0 {
		// supervisord writes ver first in every header. When a len was
		// smaller than the payload that followed it, the rest of that
		// payload is read as the start of the next header line and eats
		// its ver token ("pid:123ver:3.0", or a line of log data): the
		// stream is out of step and every later event would be misread.
		return Header{}, spans, false, malformedHeader("missing ver (out of step with supervisord: was the previous event's len shorter than its payload?)", line)
	}
	return h, spans, seen&(seenPool|seenPoolSerial) == seenPool|seenPoolSerial, nil
}

// fill sets h's string fields from the spans parseHeader found in line,
// which s now holds at its start, lineLen bytes long.
func (h *Header) fill(s string, lineLen int, spans []tokenSpan) {
	h.Line = s[:lineLen]
	for _, sp := range spans {
		v := s[sp.colon+1 : sp.end]
		switch sp.field {
		case fieldVer:
			h.Ver = v
		case fieldServer:
			h.Server = v
		case fieldPool:
			h.Pool = v
		case fieldEventName:
			h.EventName = v
		}
	}
}

func malformedHeader(why, line string) *ProtocolError {
	return protocolError("malformed header: "+why, []byte(line[:min(len(line), maxQuoted)]))
}

// parseCount parses a non-negative decimal integer made of ASCII digits
// only: no sign, no spaces, no underscores (unlike strconv.ParseInt, which
// accepts a leading '+').
func parseCount(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

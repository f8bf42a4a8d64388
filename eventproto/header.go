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

// parseHeader parses one header line (without its '\n') as a set of
// key:value tokens: supervisord does not guarantee their order. len and ver
// must be there: supervisord always sends both. The Header's strings are
// substrings of line. It reports whether both pool and poolserial were
// there, the two tokens poolserial tracking needs.
func parseHeader(line string) (Header, bool, error) {
	h := Header{Line: line}
	seen := 0
	for rest := line; rest != ""; {
		tok := rest
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			tok, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if tok == "" {
			continue
		}
		k, v, ok := strings.Cut(tok, ":")
		if !ok {
			return Header{}, false, malformedHeader("token without ':'", line)
		}
		bit := 0
		switch k {
		case "ver":
			bit, h.Ver = seenVer, v
		case "server":
			bit, h.Server = seenServer, v
		case "pool":
			bit, h.Pool = seenPool, v
		case "eventname":
			bit, h.EventName = seenEventName, v
		case "serial":
			bit = seenSerial
			if h.Serial, ok = parseCount(v); !ok {
				return Header{}, false, malformedHeader("invalid serial", line)
			}
		case "poolserial":
			bit = seenPoolSerial
			if h.PoolSerial, ok = parseCount(v); !ok {
				return Header{}, false, malformedHeader("invalid poolserial", line)
			}
		case "len":
			bit = seenLen
			n, ok := parseCount(v)
			if !ok {
				return Header{}, false, malformedHeader("invalid len", line)
			}
			if n > MaxPayloadChars {
				return Header{}, false, malformedHeader("len too large", line)
			}
			h.Len = int(n)
		}
		if seen&bit != 0 {
			// Two len tokens would make the framing ambiguous; refuse
			// every repeated known key rather than pick one.
			return Header{}, false, malformedHeader("duplicate "+k, line)
		}
		seen |= bit
	}
	if seen&seenLen == 0 {
		return Header{}, false, malformedHeader("missing len", line)
	}
	if seen&seenVer == 0 {
		// supervisord writes ver first in every header. When a len was
		// smaller than the payload that followed it, the rest of that
		// payload is read as the start of the next header line and eats
		// its ver token ("pid:123ver:3.0", or a line of log data): the
		// stream is out of step and every later event would be misread.
		return Header{}, false, malformedHeader("missing ver (out of step with supervisord: was the previous event's len shorter than its payload?)", line)
	}
	return h, seen&(seenPool|seenPoolSerial) == seenPool|seenPoolSerial, nil
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

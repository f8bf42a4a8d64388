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
// key:value tokens: supervisord does not guarantee their order. The values
// are substrings of line. When tokens is not nil, every token is also stored
// in it and it becomes Header.Tokens.
func parseHeader(line string, tokens map[string]string) (Header, error) {
	h := Header{Tokens: tokens}
	seen := 0
	for rest := line; rest != ""; {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		if tok == "" {
			continue
		}
		k, v, ok := strings.Cut(tok, ":")
		if !ok {
			return Header{}, malformedHeader("token without ':'", line)
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
				return Header{}, malformedHeader("invalid serial", line)
			}
		case "poolserial":
			bit = seenPoolSerial
			if h.PoolSerial, ok = parseCount(v); !ok {
				return Header{}, malformedHeader("invalid poolserial", line)
			}
		case "len":
			bit = seenLen
			n, ok := parseCount(v)
			if !ok {
				return Header{}, malformedHeader("invalid len", line)
			}
			if n > MaxPayloadChars {
				return Header{}, malformedHeader("len too large", line)
			}
			h.Len = int(n)
		}
		if seen&bit != 0 {
			// Two len tokens would make the framing ambiguous; refuse
			// every repeated known key rather than pick one.
			return Header{}, malformedHeader("duplicate "+k, line)
		}
		seen |= bit
		if tokens != nil {
			tokens[k] = v
		}
	}
	if seen&seenLen == 0 {
		return Header{}, malformedHeader("missing len", line)
	}
	return h, nil
}

// hasPoolSerial reports whether h came with both pool and poolserial, the
// two tokens poolserial tracking needs.
func hasPoolSerial(h *Header) bool {
	_, pool := h.Tokens["pool"]
	_, ps := h.Tokens["poolserial"]
	return pool && ps
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

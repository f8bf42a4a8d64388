package alertctx

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultTailBytes caps one program's log tail.
const DefaultTailBytes = 16 << 10

// Tail is the end of a program's log, made safe to show.
type Tail struct {
	Program string
	Stream  string // "stderr" or "stdout"
	Path    string // the log file, as supervisord names it
	Want    int    // lines asked for
	Lines   []string
	// Cut is true when Lines[0] is the end of a longer line: the byte cap
	// fell inside it.
	Cut bool
	// Capped is true when fewer than Want lines are shown because of the
	// byte cap.
	Capped bool
}

// Render returns the block: a heading, the lines, an end marker; no
// trailing newline.
func (t *Tail) Render() string {
	var b strings.Builder
	what := fmt.Sprintf("%s log of %s (%s)", t.Stream, Visible(t.Program), Visible(t.Path))
	if len(t.Lines) == 0 {
		return "--- the " + what + " is empty ---"
	}
	n := fmt.Sprintf("last %d lines", len(t.Lines))
	if len(t.Lines) == 1 {
		n = "last line"
	}
	fmt.Fprintf(&b, "--- %s of the %s", n, what)
	if t.Capped {
		fmt.Fprintf(&b, ", cut to %d KiB", DefaultTailBytes>>10)
	}
	b.WriteString(" ---\n")
	for i, l := range t.Lines {
		if i == 0 && t.Cut {
			b.WriteString("[...]")
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("--- end of log ---")
	return b.String()
}

// makeTail turns what tailProcess*Log answered into at most want lines
// of at most maxBytes in all (after escaping). overflow says the log held
// more than text, so that its first line may be the end of a longer one.
func makeTail(text string, overflow bool, want, maxBytes int) (lines []string, cut, capped bool) {
	text = strings.TrimSuffix(text, "\n")
	if text == "" && !overflow {
		return nil, false, false
	}
	all := strings.Split(text, "\n")
	firstPartial := overflow
	if len(all) > want {
		all = all[len(all)-want:]
		firstPartial = false
	}
	lines = make([]string, len(all))
	for i, l := range all {
		lines[i] = Visible(strings.TrimSuffix(l, "\r"))
	}
	// Keep the newest lines that fit; "[...]" and the newlines count.
	room := maxBytes - len("[...]")
	size, keep := 0, len(lines)
	for keep > 0 && size+len(lines[keep-1])+1 <= room {
		size += len(lines[keep-1]) + 1
		keep--
	}
	if keep == 0 {
		return lines, firstPartial, false
	}
	// The next older line does not fit: show its end if there is room
	// for a useful part of it, so that a huge last line still shows.
	rest := room - size - 1
	if rest < minPart {
		return lines[keep:], false, true
	}
	older := lines[keep-1]
	start := len(older) - rest
	for start < len(older) && !utf8.RuneStart(older[start]) {
		start++
	}
	return append([]string{older[start:]}, lines[keep:]...), true, true
}

// minPart is the shortest end of a line worth showing after "[...]".
const minPart = 64

// Visible makes control characters visible, so that log text cannot
// move the cursor, ring bells, hide text or fake line breaks in a mail
// reader or terminal: C0 controls other than tab, DEL, C1 controls, line
// and paragraph separators and bidirectional overrides become Go-style
// escapes (\x1b, \u202e). Invalid UTF-8 becomes U+FFFD. Newlines are
// escaped too: callers split lines first.
func Visible(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b = utf8.AppendRune(b, utf8.RuneError)
		case r < 0x80 && needsEscape(r):
			b = append(b, '\\', 'x', hex[r>>4], hex[r&0xf])
		case needsEscape(r):
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, s[i-size:i]...)
		}
	}
	return string(b)
}

func needsEscape(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029, r == 0x200e, r == 0x200f, r == 0x061c,
		r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

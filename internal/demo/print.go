package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// printer writes the narration: one line per fact, with the time since the
// demo started. Several goroutines print, so it serialises the writes.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	color bool
}

const (
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	blue   = "\x1b[34m"
	cyan   = "\x1b[36m"
	reset  = "\x1b[0m"
)

func (p *printer) paint(style, s string) string {
	if !p.color || style == "" {
		return s
	}
	return style + s + reset
}

// say prints one narrated line: "  12.3s  who            text".
func (p *printer) say(who, style, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "%6.1fs  %s %s\n", el, p.paint(style, fmt.Sprintf("%-14s", who)), p.paint(style, fmt.Sprintf(format, args...)))
}

// plain prints text as is.
func (p *printer) plain(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// frame prints lines inside a box, with a title.
func (p *printer) frame(title, footer string, lines []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	width := 72
	bar := func(lead, text string) string {
		n := width - len([]rune(text)) - 4
		if n < 3 {
			n = 3
		}
		return lead + "─ " + text + " " + strings.Repeat("─", n)
	}
	fmt.Fprintln(p.w, p.paint(cyan, bar("┌", title)))
	for _, l := range lines {
		fmt.Fprintln(p.w, p.paint(cyan, "│ ")+l)
	}
	if footer == "" {
		fmt.Fprintln(p.w, p.paint(cyan, "└"+strings.Repeat("─", width-1)))
	} else {
		fmt.Fprintln(p.w, p.paint(cyan, bar("└", footer)))
	}
}

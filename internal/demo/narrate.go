package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/rpcclient"
)

// narrator turns what it observes (supervisord's process table over
// XML-RPC, the listeners' stderr logs, the mail that arrives) into the
// demo's running commentary, and records it in the report.
type narrator struct {
	p   *printer
	o   options
	dir string

	mu          sync.Mutex
	rep         *report
	procs       map[string]rpcclient.ProcessInfo // last seen, by namespec
	recent      map[string][]logLine             // recent log lines per tool
	inBlock     map[string]int                   // inside a log block that repeats a mail
	lastBody    map[string]string                // body of the tool's latest mail
	pending     []pendingRestart                 // pid changes not yet explained
	lastExit    map[string]int                   // exit status seen in EXITED
	listenersUp bool
	mailSeq     int
	acted       map[string]bool
	allActed    chan struct{}
	closed      bool
}

// pendingRestart is a pid change seen in the process table before the log
// line of the listener that caused it was read.
type pendingRestart struct {
	name     string
	from, to int
	seen     time.Time
}

type logLine struct {
	at   time.Time
	text string
}

func newNarrator(p *printer, o options, dir string, rep *report) *narrator {
	return &narrator{
		p: p, o: o, dir: dir, rep: rep,
		procs:    map[string]rpcclient.ProcessInfo{},
		recent:   map[string][]logLine{},
		inBlock:  map[string]int{},
		lastBody: map[string]string{},
		lastExit: map[string]int{},
		acted:    map[string]bool{},
		allActed: make(chan struct{}),
	}
}

// watch polls supervisord and tails the listeners' logs until ctx is done.
func (n *narrator) watch(ctx context.Context, c *rpcclient.Client) {
	offsets := map[string]int64{}
	partial := map[string]string{}
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		// Logs first: a listener logs what it does before supervisord's
		// table shows the result.
		for _, t := range tools {
			n.tail(t, offsets, partial)
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		infos, err := c.GetAllProcessInfo(cctx)
		cancel()
		if err == nil {
			n.processes(infos)
		}
		n.explainPending(false)
		select {
		case <-ctx.Done():
			// One last read: lines written during the shutdown.
			for _, t := range tools {
				n.tail(t, offsets, partial)
			}
			n.explainPending(true)
			return
		case <-poll.C:
		}
	}
}

func (n *narrator) tail(tool string, offsets map[string]int64, partial map[string]string) {
	f, err := os.Open(filepath.Join(n.dir, "logs", tool+".log"))
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(offsets[tool], io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil || len(b) == 0 {
		return
	}
	offsets[tool] += int64(len(b))
	text := partial[tool] + string(b)
	lines := strings.Split(text, "\n")
	partial[tool] = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		n.logLine(tool, l)
	}
}

var (
	rssLine = regexp.MustCompile(`RSS of (\S+) is (\d+)`)
)

// logLine shows one stderr line of a listener. The tools prefix their own
// lines with "TIME name: "; lines without it continue the previous one. Blocks
// that repeat a whole mail are skipped, since the mail itself is shown.
func (n *narrator) logLine(tool, line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	// The demo has a time column of its own; the version line every tool
	// logs at start tells nothing about the demo.
	line, ok := strings.CutSuffix(cli.Untimed(line+"\n"), "\n")
	if !ok {
		return
	}
	text, own := strings.CutPrefix(line, tool+": ")
	if n.skipBlock(tool, text, own) || strings.TrimSpace(text) == "" {
		return
	}
	rec := append(n.recent[tool], logLine{time.Now(), text})
	if len(rec) > 40 {
		rec = rec[len(rec)-40:]
	}
	n.recent[tool] = rec

	switch {
	case strings.HasPrefix(text, "Checking "), text == "unexpected exit, mailing":
		// Every tick / every crash; the facts show up elsewhere.
	case tool == "procmon" && strings.HasPrefix(text, "starting "):
		n.p.say(tool, green+bold, "▶ %s", text)
	case tool == "memmon" && rssLine.MatchString(text):
		m := rssLine.FindStringSubmatch(text)
		rss, _ := strconv.ParseFloat(m[2], 64)
		n.p.say(tool, dim, "%s uses %.1f MB (limit %d MB)", m[1], rss/(1<<20), n.o.Timing.LeakLimitMB)
	default:
		style := dim
		if lower := strings.ToLower(text); strings.Contains(lower, "panic") || strings.Contains(lower, "error") && !strings.Contains(lower, "error contacting") {
			style = red
		}
		n.p.say(tool, style, "%s", strings.TrimSpace(text))
	}
}

// skipBlock reports whether text belongs to a log block that repeats a
// mail, since the mail itself is shown: "Mailed:" followed by the message
// in one multi-line log entry (continuation lines lack the "tool: "
// prefix), or "Sending notification email:" followed by To, From, Subject,
// Body and the body's first lines, one log entry each.
func (n *narrator) skipBlock(tool, text string, own bool) bool {
	const (
		none = iota
		mailed
		head
		body
	)
	switch state := n.inBlock[tool]; {
	case !own:
		return state == mailed
	case state == head:
		if text == "Body:" {
			n.inBlock[tool] = body
			return true
		}
		for _, h := range []string{"To:", "From:", "Subject:"} {
			if strings.HasPrefix(text, h) {
				return true
			}
		}
	case state == body:
		if t := strings.TrimSuffix(text, "..."); t != "" && strings.Contains(n.lastBody[tool], t) {
			return true
		}
	}
	n.inBlock[tool] = none
	switch {
	case strings.HasPrefix(text, "Mailed:"):
		n.inBlock[tool] = mailed
		return true
	case strings.HasPrefix(text, "Sending notification email:"):
		n.inBlock[tool] = head
		return true
	}
	return false
}

// processes compares supervisord's process table with the previous one and
// tells what changed.
func (n *narrator) processes(infos []rpcclient.ProcessInfo) {
	n.mu.Lock()
	defer n.mu.Unlock()
	upListeners := 0
	for _, pi := range infos {
		name := pi.Namespec()
		prev, seen := n.procs[name]
		n.procs[name] = pi
		if isTool(name) {
			if pi.State == rpcclient.StateRunning {
				upListeners++
			}
			n.listener(name, prev, pi, seen)
			continue
		}
		n.program(name, prev, pi, seen)
	}
	if upListeners == len(tools) && !n.listenersUp {
		n.listenersUp = true
		n.p.say("supervisord", bold, "all %d listeners are RUNNING", len(tools))
	}
}

func (n *narrator) listener(name string, prev, pi rpcclient.ProcessInfo, seen bool) {
	switch {
	case seen && prev.PID != 0 && pi.PID != 0 && prev.PID != pi.PID:
		n.rep.ListenerIssues = append(n.rep.ListenerIssues, fmt.Sprintf("%s restarted (pid %d → %d)", name, prev.PID, pi.PID))
		n.p.say(name, red, "listener restarted by supervisord (pid %d → %d); see its log", prev.PID, pi.PID)
	case seen && prev.State != pi.State && (pi.State == rpcclient.StateExited || pi.State == rpcclient.StateBackoff || pi.State == rpcclient.StateFatal):
		n.rep.ListenerIssues = append(n.rep.ListenerIssues, fmt.Sprintf("%s %s (exit status %d)", name, pi.StateName, pi.ExitStatus))
		n.p.say(name, red, "listener is %s (exit status %d); see its log", pi.StateName, pi.ExitStatus)
	}
}

func (n *narrator) program(name string, prev, pi rpcclient.ProcessInfo, seen bool) {
	if seen && prev.PID != 0 && pi.PID != 0 && prev.PID != pi.PID {
		n.pending = append(n.pending, pendingRestart{name, prev.PID, pi.PID, time.Now()})
		return
	}
	if seen && prev.State == pi.State {
		return
	}
	switch pi.State {
	case rpcclient.StateRunning:
		if !seen || prev.PID == 0 {
			n.p.say(name, "", "RUNNING (pid %d)", pi.PID)
		}
	case rpcclient.StateExited:
		n.lastExit[name] = pi.ExitStatus
		n.p.say(name, yellow, "exited with status %d", pi.ExitStatus)
	case rpcclient.StateBackoff:
		n.p.say(name, yellow, "could not start (BACKOFF): %s", orDefault(pi.SpawnErr, "exited too quickly"))
	case rpcclient.StateFatal:
		n.p.say(name, red+bold, "FATAL: supervisord gave up starting it (%s)", orDefault(pi.SpawnErr, "exited too quickly"))
	}
}

// explainPending tells who restarted a program (and why) from what that
// listener logged. A pid change nobody claims within two seconds was
// supervisord's own autorestart after an exit; final explains everything
// still pending.
func (n *narrator) explainPending(final bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := n.pending[:0]
	for _, r := range n.pending {
		switch {
		case r.name == "web" && n.loggedRecently("httpok", "restart"):
			n.rep.Restarts["httpok restarted web"]++
			n.p.say("httpok", green+bold, "▶ restarted web (pid %d → %d) because %s", r.from, r.to, n.httpokReason())
			// One restart explains one pid change.
			n.consume("httpok", "restart")
		case r.name == "leaky" && n.loggedRecently("memmon", "Restarting"):
			n.rep.Restarts["memmon restarted leaky"]++
			n.p.say("memmon", green+bold, "▶ restarted leaky (pid %d → %d): it used %s, over its %d MB limit", r.from, r.to, n.leakyRSS(), n.o.Timing.LeakLimitMB)
			n.consume("memmon", "Restarting")
		case final || time.Since(r.seen) > 2*time.Second:
			if _, ok := n.lastExit[r.name]; ok {
				n.p.say(r.name, yellow, "supervisord restarted it (pid %d → %d)", r.from, r.to)
			} else {
				n.p.say(r.name, yellow, "exited; supervisord restarted it (pid %d → %d)", r.from, r.to)
			}
			delete(n.lastExit, r.name)
		default:
			keep = append(keep, r)
			continue
		}
	}
	n.pending = keep
}

// settled reports whether no program is between stop and start, so that
// stopping supervisord now does not cut a listener's restart in half.
func (n *narrator) settled() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, name := range []string{"web", "leaky"} {
		if pi, ok := n.procs[name]; ok && pi.State != rpcclient.StateRunning {
			return false
		}
	}
	return len(n.pending) == 0
}

func (n *narrator) consume(tool, substr string) {
	rec := n.recent[tool][:0]
	for _, l := range n.recent[tool] {
		if !strings.Contains(l.text, substr) {
			rec = append(rec, l)
		}
	}
	n.recent[tool] = rec
}

func (n *narrator) loggedRecently(tool, substr string) bool {
	for _, l := range n.recent[tool] {
		if time.Since(l.at) < 20*time.Second && strings.Contains(l.text, substr) {
			return true
		}
	}
	return false
}

// httpokReason reads the outcome of the failed check from httpok's log.
func (n *narrator) httpokReason() string {
	rec := n.recent["httpok"]
	for i := len(rec) - 1; i >= 0; i-- {
		t := strings.ToLower(rec[i].text)
		switch {
		case strings.Contains(t, "timeout"), strings.Contains(t, "timed out"), strings.Contains(t, "deadline exceeded"):
			return "the health check timed out"
		case strings.Contains(t, "refused"):
			return "the connection was refused"
		case strings.Contains(t, "bad body"):
			return "the expected text was missing from the answer"
		case strings.Contains(t, "status contacting"), strings.Contains(t, "bad status"):
			return "it answered with a bad status"
		}
	}
	return "the health check failed"
}

func (n *narrator) leakyRSS() string {
	rec := n.recent["memmon"]
	for i := len(rec) - 1; i >= 0; i-- {
		if m := rssLine.FindStringSubmatch(rec[i].text); m != nil {
			rss, _ := strconv.ParseFloat(m[2], 64)
			return fmt.Sprintf("%.1f MB", rss/(1<<20))
		}
	}
	return "too much memory"
}

// mailArrived prints a message, stores it, and notes that its tool acted.
func (n *narrator) mailArrived(m received) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m.Tool = classify(m)
	n.mailSeq++
	file := filepath.Join(n.o.MailDir, fmt.Sprintf("%02d-%s.eml", n.mailSeq, m.Tool))
	shown := file
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
			shown = rel
		}
	}
	saved := "saved as " + shown
	if err := os.WriteFile(file, m.Raw, 0o644); err != nil {
		saved = "not saved: " + err.Error()
	}
	n.rep.Mails[m.Tool] = append(n.rep.Mails[m.Tool], m)
	n.lastBody[m.Tool] = m.Body

	lines := []string{
		"From:    " + orDefault(m.From, m.Envelope),
		"To:      " + orDefault(m.To, strings.Join(m.Rcpt, ", ")),
	}
	if m.HasSubj {
		lines = append(lines, "Subject: "+m.Subject)
	} else {
		lines = append(lines, "Subject: (none: an SMS gateway sends the body only)")
	}
	lines = append(lines, "")
	lines = append(lines, strings.Split(m.Body, "\n")...)
	n.p.frame(fmt.Sprintf("mail #%d from %s", n.mailSeq, m.Tool), saved, lines)

	if isTool(m.Tool) && !n.acted[m.Tool] {
		n.acted[m.Tool] = true
		n.p.say(m.Tool, green, "✔ acted (%d of %d listeners)", len(n.acted), len(tools))
		if len(n.acted) == len(tools) && !n.closed {
			n.closed = true
			n.rep.AllActed = true
			close(n.allActed)
		}
	}
}

// finish stops recording; mail arriving later is still printed.
func (n *narrator) finish() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.allActed)
	}
}

func (n *narrator) summary(keep bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.p
	p.plain("\n%s\n", p.paint(bold, "Summary"))
	for _, t := range tools {
		mails := len(n.rep.Mails[t])
		mark := p.paint(green, "✔")
		if mails == 0 {
			mark = p.paint(red, "✘")
		}
		extra := ""
		switch t {
		case "httpok":
			extra = fmt.Sprintf(", restarted web %d×", n.rep.Restarts["httpok restarted web"])
		case "memmon":
			extra = fmt.Sprintf(", restarted leaky %d×", n.rep.Restarts["memmon restarted leaky"])
		}
		p.plain("  %s %-15s %d mail(s)%s\n", mark, t, mails, extra)
	}
	if u := len(n.rep.Mails["unknown"]); u > 0 {
		p.plain("  ? %-15s %d mail(s) from an unrecognised sender\n", "unknown", u)
	}
	for _, issue := range n.rep.ListenerIssues {
		p.plain("  %s\n", p.paint(red, "listener trouble: "+issue))
	}
	p.plain("Mail: %s (%d files).\n", n.o.MailDir, n.mailSeq)
	if keep {
		p.plain("Config and logs kept in %s.\n", n.dir)
	}
	if len(n.rep.Leftovers) == 0 {
		p.plain("supervisord (pid %d) and everything it ran have stopped; nothing is left running.\n", n.rep.SupervisordPID)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets and Python superlance 2.0's figures, from the project's design
// (measured there on the same kind of machine).
const (
	targetReady     = 10 * time.Millisecond
	targetRSS       = 12 << 20
	targetAnon      = 3 << 20
	targetCPU       = 2 * time.Microsecond
	targetEventsSec = 200000 // 10x Python crashmailbatch
	targetTick      = 20 * time.Millisecond
	targetTickCum   = 40 * time.Millisecond
)

func printTable(w io.Writer, o options, r *results) {
	m := r.machine
	fmt.Fprintf(w, "\nMachine: %s, %d cores, Linux %s, %s; load average %s at the end of the run. ", m.cpu, m.cores, m.kernel, m.goVersion, m.load)
	fmt.Fprintf(w, "Binaries built as `make install` builds them. Medians.\n\n")

	fmt.Fprintf(w, "| tool | exec → first READY | idle RSS | idle private (RssAnon) | CPU per event | events/s | what the event makes the tool do |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|\n")
	rows := append([]toolResult(nil), r.tools...)
	for _, t := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", t.name, ms(t.ready), mib(t.rss), mib(t.anon), us(t.cpuPerEvent), rate(t.eventsPerSec), t.work)
	}
	if t := r.floor; t != nil {
		fmt.Fprintf(w, "| *reference: minimal listener* | %s | %s | %s | %s | %s | %s |\n", ms(t.ready), mib(t.rss), mib(t.anon), us(t.cpuPerEvent), rate(t.eventsPerSec), t.work)
	}
	if t := r.python; t != nil {
		fmt.Fprintf(w, "| *reference: Python listener, same run* | %s | %s | %s | %s | %s | %s |\n", ms(t.ready), mib(t.rss), mib(t.anon), us(t.cpuPerEvent), rate(t.eventsPerSec), t.work)
	}
	if t := r.work; t != nil {
		fmt.Fprintf(w, "| crashmailbatch, unexpected exits | | | | %s | %s | %s |\n", us(t.cpuPerEvent), rate(t.eventsPerSec), t.work)
	}
	fmt.Fprintf(w, "| **target** | ≤ %s | ≤ %s | ≤ %s | ≤ %s | ≥ %s | |\n", ms(targetReady), mib(targetRSS), mib(targetAnon), us(targetCPU), rate(targetEventsSec))
	fmt.Fprintf(w, "| Python superlance 2.0 | ~290 ms | 20–30 MiB | 10–20 MiB | ~14–28 µs | ~20,000 (crashmailbatch) | |\n")
	fmt.Fprintf(w, "\nStarts: %d per tool (memory from the first 5, 200 ms after READY). Events: %d per tool, PROCESS_STATE_EXITED, one at a time through pipes as supervisord sends them (event, RESULT 2 OK, READY); CPU is the listener's user+sys from its rusage, minus that of a run without events; events/s is wall time and includes the harness's side of every round trip.\n",
		o.runs, o.events)

	if len(r.marginal) > 0 {
		fmt.Fprintf(w, "\n| marginal CPU per ignored event (%d minus %d events, same driver, same run) | CPU per event | ratio to the minimal Go listener | |\n", marginalLarge, marginalSmall)
		fmt.Fprintf(w, "|---|---|---|---|\n")
		var floor time.Duration
		for _, m := range r.marginal {
			if m.label == "*minimal Go listener*" {
				floor = m.perEvent
			}
		}
		for _, m := range r.marginal {
			if m.perEvent == 0 {
				fmt.Fprintf(w, "| %s | | | %s |\n", m.label, m.note)
				continue
			}
			ratio := ""
			if floor > 0 {
				ratio = fmt.Sprintf("%.2fx", float64(m.perEvent)/float64(floor))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.label, us(m.perEvent), ratio, m.note)
		}
	}

	if len(r.ticks) > 0 || r.memmonErr != nil {
		fmt.Fprintf(w, "\n| memmon, real processes under a real supervisord | TICK → last \"RSS of\" line | getAllProcessInfo round trip alone | target | Python superlance 2.0 |\n")
		fmt.Fprintf(w, "|---|---|---|---|---|\n")
		targets := []string{"≤ 20 ms", "≤ 40 ms"}
		python := []string{"~3.4 s (forks ps per process)", "~1 s+"}
		for i, t := range r.ticks {
			fmt.Fprintf(w, "| %s | %s (%s–%s) | %s | %s | %s |\n", t.label, ms(t.reaction), ms(t.min), ms(t.max), ms(t.rpc), targets[i], python[i])
		}
		if r.memmonErr != nil {
			fmt.Fprintf(w, "| not measured: %s | | | | |\n", strings.ReplaceAll(r.memmonErr.Error(), "|", "/"))
		}
		fmt.Fprintf(w, "\nmemmon was started by the harness with the supervisord's SUPERVISOR_SERVER_URL and sent %d TICK_5 events; the time includes the getAllProcessInfo round trip (supervisord's answer for all its processes, decoded), which the third column times alone, right before each tick, with the same client package.\n", tickRuns)
	}

	missed := misses(r)
	if len(missed) == 0 {
		fmt.Fprintf(w, "\nEvery target is met.\n")
		return
	}
	fmt.Fprintf(w, "\nMissed targets:\n")
	for _, s := range missed {
		fmt.Fprintf(w, "- %s\n", s)
	}
}

func misses(r *results) []string {
	var out []string
	for _, t := range r.tools {
		if t.ready > targetReady {
			out = append(out, fmt.Sprintf("%s: exec → READY %s, target %s (%.1f× over)", t.name, ms(t.ready), ms(targetReady), float64(t.ready)/float64(targetReady)))
		}
		if t.rss > targetRSS {
			out = append(out, fmt.Sprintf("%s: idle RSS %s, target %s (+%s)", t.name, mib(t.rss), mib(targetRSS), mib(t.rss-targetRSS)))
		}
		if t.anon > targetAnon {
			out = append(out, fmt.Sprintf("%s: idle RssAnon %s, target %s (+%s)", t.name, mib(t.anon), mib(targetAnon), mib(t.anon-targetAnon)))
		}
		if t.cpuPerEvent > targetCPU {
			out = append(out, fmt.Sprintf("%s: CPU per ignored event %s, target %s (%.1f× over)", t.name, us(t.cpuPerEvent), us(targetCPU), float64(t.cpuPerEvent)/float64(targetCPU)))
		}
		if t.eventsPerSec < targetEventsSec {
			out = append(out, fmt.Sprintf("%s: %s events/s through pipes, target %s (%.0f%% of it)", t.name, rate(t.eventsPerSec), rate(targetEventsSec), 100*t.eventsPerSec/targetEventsSec))
		}
	}
	for i, t := range r.ticks {
		target := []time.Duration{targetTick, targetTickCum}[i]
		if t.reaction > target {
			out = append(out, fmt.Sprintf("%s: %s, target %s (%.1f× over; supervisord's getAllProcessInfo alone takes %s)", t.label, ms(t.reaction), ms(target), float64(t.reaction)/float64(target), ms(t.rpc)))
		}
	}
	return out
}

func ms(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

func mib(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// rate formats events per second with thousands separators.
func rate(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

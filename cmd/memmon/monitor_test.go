package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

func TestRulePrecedence(t *testing.T) {
	all := rules{
		programs: map[string]uint64{"web": 2, "grp:web": 1, "solo": 3},
		groups:   map[string]uint64{"grp": 4, "other": 5},
		any:      6, hasAny: true,
	}
	noAny := all
	noAny.hasAny = false
	for _, tc := range []struct {
		r           rules
		group, name string
		want        rule
		wantOK      bool
	}{
		{all, "grp", "web", rule{"-p", "grp:web", 1}, true}, // group:name beats name, group and any
		{all, "web", "web", rule{"-p", "web", 2}, true},     // name beats any
		{all, "other", "web", rule{"-p", "web", 2}, true},   // name beats group
		{all, "grp", "db", rule{"-g", "grp", 4}, true},      // group beats any
		{all, "solo", "solo", rule{"-p", "solo", 3}, true},  // group == name: the bare name
		{all, "x", "y", rule{"-a", "", 6}, true},            // only any
		{noAny, "x", "y", rule{}, false},                    // nothing applies
		{noAny, "web", "grp", rule{}, false},                // names are not groups
		{noAny, "grp:web", "", rule{}, false},               // no accidental match of the joined key
		{rules{programs: map[string]uint64{"web:web": 7}}, "web", "web", rule{"-p", "web:web", 7}, true},
	} {
		got, ok := tc.r.match(tc.group, tc.name)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("match(group %q, name %q) = %+v, %v; want %+v, %v", tc.group, tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// fakeSupervisor and fakeTable replay upstream's acceptance fixture: three
// processes with fixed pids and fixed RSS values, and faults for names
// ending in FAILED or SPAWN_ERROR. A real supervisord cannot produce fixed
// RSS values or a stop fault on demand; the real-supervisord tests in
// memmon_test.go cover the rest.
type fakeSupervisor struct {
	procs []rpcclient.ProcessInfo
	calls []string
	start int64 // start time answered by getProcessInfo; now is 1000
}

func (f *fakeSupervisor) GetAllProcessInfo(context.Context) ([]rpcclient.ProcessInfo, error) {
	f.calls = append(f.calls, "getAllProcessInfo")
	return f.procs, nil
}

func (f *fakeSupervisor) GetProcessInfo(_ context.Context, name string) (rpcclient.ProcessInfo, error) {
	f.calls = append(f.calls, "getProcessInfo "+name)
	return rpcclient.ProcessInfo{Start: f.start, Now: 1000}, nil
}

func (f *fakeSupervisor) StopProcess(_ context.Context, name string, wait bool) error {
	f.calls = append(f.calls, fmt.Sprintf("stopProcess %s %v", name, wait))
	switch {
	case name == "BAD_NAME:BAD_NAME":
		return fmt.Errorf("supervisor.stopProcess %q: %w", name, &rpcclient.Fault{Code: rpcclient.FaultBadName, String: "BAD_NAME: BAD_NAME"})
	case strings.HasSuffix(name, "FAILED"):
		return fmt.Errorf("supervisor.stopProcess %q: %w", name, &rpcclient.Fault{Code: rpcclient.FaultFailed, String: "FAILED"})
	}
	return nil
}

func (f *fakeSupervisor) StartProcess(_ context.Context, name string, wait bool) error {
	f.calls = append(f.calls, fmt.Sprintf("startProcess %s %v", name, wait))
	if strings.HasSuffix(name, "SPAWN_ERROR") {
		return fmt.Errorf("supervisor.startProcess %q: %w", name, &rpcclient.Fault{Code: rpcclient.FaultSpawnError, String: "SPAWN_ERROR"})
	}
	return nil
}

// fakeTable: upstream replaced ps by "echo 22<pid>" KiB.
type fakeTable map[int]uint64

func (t fakeTable) RSS(pid int) (uint64, bool)     { v, ok := t[pid]; return v, ok }
func (t fakeTable) TreeRSS(pid int) (uint64, bool) { v, ok := t[pid]; return v + 1, ok }

func upstreamProcs() []rpcclient.ProcessInfo {
	return []rpcclient.ProcessInfo{
		{Name: "foo", Group: "foo", PID: 11, State: rpcclient.StateRunning},
		{Name: "bar", Group: "bar", PID: 12, State: rpcclient.StateFatal},
		{Name: "baz_01", Group: "baz", PID: 12, State: rpcclient.StateStopped},
	}
}

// newTestMemmon returns a memmon over the upstream fixture that mails to
// chrism@plope.com; its log and mails are recorded.
func newTestMemmon(cfg *config, procs []rpcclient.ProcessInfo) (*memmon, *fakeSupervisor, *bytes.Buffer, *[]*notify.Message) {
	if cfg.rules.programs == nil {
		cfg.rules.programs = map[string]uint64{}
	}
	if cfg.rules.groups == nil {
		cfg.rules.groups = map[string]uint64{}
	}
	if cfg.uptime == 0 {
		cfg.uptime = math.MaxInt64
	}
	if cfg.mail.To == nil {
		cfg.mail.To = []string{"chrism@plope.com"}
	}
	sv := &fakeSupervisor{procs: procs, start: 900}
	var logBuf bytes.Buffer
	var mails []*notify.Message
	m := &memmon{
		cfg: cfg,
		sv:  sv,
		snapshot: func(context.Context) (memTable, error) {
			return fakeTable{11: 2264064, 12: 2265088}, nil
		},
		selfGroup: "memmon", selfName: "memmon",
		log: log.New(&logBuf, "", 0),
		alerts: alert.NewQueue(alert.Options{Tool: "memmon"}, alert.Func(func(a *alert.Alert) error {
			msg := &notify.Message{To: cfg.mail.To, From: cfg.mail.From, Subject: a.Subject, Body: a.Text}
			mails = append(mails, msg)
			return msg.Validate()
		})),
		now: func() time.Time { return time.Date(2026, 11, 1, 16, 3, 2, 0, time.FixedZone("CET", 3600)) },
	}
	return m, sv, &logBuf, &mails
}

func TestScanUpstreamCases(t *testing.T) {
	const body = "memmon.py restarted the process named %s at Sun Nov  1 16:03:02 2026 CET because it was consuming too much memory (%d bytes RSS)"
	for _, tc := range []struct {
		name      string
		cfg       config
		procs     []rpcclient.ProcessInfo
		wantLog   string
		wantMails []string // "subject|body"
	}{
		{
			name: "programs limit 0",
			cfg:  config{rules: rules{programs: map[string]uint64{"foo": 0, "bar": 0, "baz_01": 0}}},
			wantLog: "Checking programs bar=0, baz_01=0, foo=0\n" +
				"RSS of foo:foo is 2264064\nRestarting foo:foo\n" +
				"RSS of bar:bar is 2265088\nRestarting bar:bar\n" +
				"RSS of baz:baz_01 is 2265088\nRestarting baz:baz_01\n",
			wantMails: []string{
				"memmon: process foo:foo restarted|" + fmt.Sprintf(body, "foo:foo", 2264064),
				"memmon: process bar:bar restarted|" + fmt.Sprintf(body, "bar:bar", 2265088),
				"memmon: process baz:baz_01 restarted|" + fmt.Sprintf(body, "baz:baz_01", 2265088),
			},
		},
		{
			name:      "group foo=0",
			cfg:       config{rules: rules{groups: map[string]uint64{"foo": 0}}},
			wantLog:   "Checking groups foo=0\nRSS of foo:foo is 2264064\nRestarting foo:foo\n",
			wantMails: []string{"memmon: process foo:foo restarted|" + fmt.Sprintf(body, "foo:foo", 2264064)},
		},
		{
			name: "any=0",
			cfg:  config{rules: rules{hasAny: true}},
			wantLog: "Checking any=0\n" +
				"RSS of foo:foo is 2264064\nRestarting foo:foo\n" +
				"RSS of bar:bar is 2265088\nRestarting bar:bar\n" +
				"RSS of baz:baz_01 is 2265088\nRestarting baz:baz_01\n",
			wantMails: []string{"memmon: process foo:foo restarted|", "memmon: process bar:bar restarted|", "memmon: process baz:baz_01 restarted|"},
		},
		{
			name: "programs and groups",
			cfg:  config{rules: rules{programs: map[string]uint64{"baz_01": 0}, groups: map[string]uint64{"foo": 0}}},
			wantLog: "Checking programs baz_01=0\nChecking groups foo=0\n" +
				"RSS of foo:foo is 2264064\nRestarting foo:foo\n" +
				"RSS of baz:baz_01 is 2265088\nRestarting baz:baz_01\n",
			wantMails: []string{"memmon: process foo:foo restarted|", "memmon: process baz:baz_01 restarted|"},
		},
		{
			name:    "limit not exceeded",
			cfg:     config{rules: rules{programs: map[string]uint64{"foo": math.MaxInt64}}},
			wantLog: "Checking programs foo=9223372036854775807\nRSS of foo:foo is 2264064\n",
		},
		{
			name:    "equal is not over",
			cfg:     config{rules: rules{programs: map[string]uint64{"foo": 2264064}}},
			wantLog: "Checking programs foo=2264064\nRSS of foo:foo is 2264064\n",
		},
		{
			name:      "name in subject",
			cfg:       config{rules: rules{programs: map[string]uint64{"baz_01": 0}}, name: "thinko"},
			wantLog:   "Checking programs baz_01=0\nRSS of baz:baz_01 is 2265088\nRestarting baz:baz_01\n",
			wantMails: []string{"memmon [thinko]: process baz:baz_01 restarted|"},
		},
		{
			// Upstream died here; the mail keeps its subject.
			name:  "stop fault",
			cfg:   config{rules: rules{programs: map[string]uint64{"BAD_NAME": 0, "foo": 0}}},
			procs: append([]rpcclient.ProcessInfo{{Name: "BAD_NAME", Group: "BAD_NAME", PID: 11}}, upstreamProcs()[0]),
			wantLog: "Checking programs BAD_NAME=0, foo=0\n" +
				"RSS of BAD_NAME:BAD_NAME is 2264064\nRestarting BAD_NAME:BAD_NAME\n" +
				"Failed to stop process BAD_NAME:BAD_NAME (RSS 2264064): <Fault 10: 'BAD_NAME: BAD_NAME'>\n" +
				"RSS of foo:foo is 2264064\nRestarting foo:foo\n",
			wantMails: []string{
				"memmon: failed to stop process BAD_NAME:BAD_NAME, exiting|Failed to stop process BAD_NAME:BAD_NAME (RSS 2264064): <Fault 10: 'BAD_NAME: BAD_NAME'>",
				"memmon: process foo:foo restarted|",
			},
		},
		{
			name:  "start fault",
			cfg:   config{rules: rules{hasAny: true}},
			procs: []rpcclient.ProcessInfo{{Name: "SPAWN_ERROR", Group: "foo", PID: 12}},
			wantLog: "Checking any=0\nRSS of foo:SPAWN_ERROR is 2265088\nRestarting foo:SPAWN_ERROR\n" +
				"Failed to start process foo:SPAWN_ERROR after stopping it: <Fault 50: 'SPAWN_ERROR'>\n",
			wantMails: []string{"memmon: failed to start process foo:SPAWN_ERROR, exiting|Failed to start process foo:SPAWN_ERROR after stopping it: <Fault 50: 'SPAWN_ERROR'>"},
		},
		{
			// Upstream restarted foo twice here and logged its RSS twice.
			name:      "one restart per tick",
			cfg:       config{rules: rules{programs: map[string]uint64{"foo": 0, "foo:foo": 0}, groups: map[string]uint64{"foo": 0}, hasAny: true}},
			procs:     upstreamProcs()[:1],
			wantLog:   "Checking programs foo=0, foo:foo=0\nChecking groups foo=0\nChecking any=0\nRSS of foo:foo is 2264064\nRestarting foo:foo\n",
			wantMails: []string{"memmon: process foo:foo restarted|"},
		},
		{
			name:      "specific higher limit wins over any",
			cfg:       config{rules: rules{programs: map[string]uint64{"foo": 3 << 20}, hasAny: true}},
			wantLog:   "Checking programs foo=3145728\nChecking any=0\nRSS of foo:foo is 2264064\nRSS of bar:bar is 2265088\nRestarting bar:bar\nRSS of baz:baz_01 is 2265088\nRestarting baz:baz_01\n",
			wantMails: []string{"memmon: process bar:bar restarted|", "memmon: process baz:baz_01 restarted|"},
		},
		{
			name: "self, pid 0 and gone processes are skipped",
			cfg:  config{rules: rules{hasAny: true}},
			procs: []rpcclient.ProcessInfo{
				{Name: "memmon", Group: "memmon", PID: 11},
				{Name: "stopped", Group: "stopped", PID: 0},
				{Name: "gone", Group: "gone", PID: 99},
			},
			wantLog: "Checking any=0\n",
		},
		{
			name:      "cumulative uses the tree",
			cfg:       config{rules: rules{programs: map[string]uint64{"foo": 2264064}}, cumulative: true},
			procs:     upstreamProcs()[:1],
			wantLog:   "Checking programs foo=2264064\nRSS of foo:foo is 2264065\nRestarting foo:foo\n",
			wantMails: []string{"memmon: process foo:foo restarted|" + fmt.Sprintf(body, "foo:foo", 2264065)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			procs := tc.procs
			if procs == nil {
				procs = upstreamProcs()
			}
			m, _, logBuf, mails := newTestMemmon(&tc.cfg, procs)
			m.scan(context.Background())
			if got := logBuf.String(); got != tc.wantLog {
				t.Errorf("log:\n got %q\nwant %q", got, tc.wantLog)
			}
			if len(*mails) != len(tc.wantMails) {
				t.Fatalf("got %d mails, want %d: %v", len(*mails), len(tc.wantMails), *mails)
			}
			for i, msg := range *mails {
				subject, body, _ := strings.Cut(tc.wantMails[i], "|")
				if msg.Subject != subject || !strings.HasPrefix(msg.Body, body) {
					t.Errorf("mail %d: got subject %q body %q; want subject %q body starting %q", i, msg.Subject, msg.Body, subject, body)
				}
				if len(msg.To) != 1 || msg.To[0] != "chrism@plope.com" {
					t.Errorf("mail %d: To = %q, want [chrism@plope.com]", i, msg.To)
				}
			}
		})
	}
}

func TestScanCalls(t *testing.T) {
	cfg := &config{rules: rules{programs: map[string]uint64{"foo": 0}}}
	m, sv, _, _ := newTestMemmon(cfg, upstreamProcs())
	m.scan(context.Background())
	want := []string{"getAllProcessInfo", "getProcessInfo foo:foo", "stopProcess foo:foo true", "startProcess foo:foo true"}
	if strings.Join(sv.calls, "; ") != strings.Join(want, "; ") {
		t.Errorf("calls = %q, want %q", sv.calls, want)
	}
	// Without rules there is nothing to ask supervisord.
	m, sv, _, _ = newTestMemmon(&config{}, upstreamProcs())
	m.scan(context.Background())
	if len(sv.calls) != 0 {
		t.Errorf("calls without rules = %q, want none", sv.calls)
	}
}

// TestUptimeLimit: upstream's cases, uptime 100 s (now 1000, start 900).
func TestUptimeLimit(t *testing.T) {
	for _, tc := range []struct {
		limit    int64
		wantMail bool
	}{{101, true}, {100, true}, {99, false}, {0, false}} {
		cfg := &config{rules: rules{programs: map[string]uint64{"foo": 0}}}
		m, _, _, mails := newTestMemmon(cfg, upstreamProcs()[:1])
		cfg.uptime = tc.limit
		m.scan(context.Background())
		if got := len(*mails) == 1; got != tc.wantMail {
			t.Errorf("uptime 100 s, -u %d: mailed = %v, want %v", tc.limit, got, tc.wantMail)
		}
	}
}

// TestStopFaultSkipsStart: a process that could not be stopped is not
// started, and the scan goes on with the next one; without -m nothing is
// mailed.
func TestStopFaultSkipsStart(t *testing.T) {
	cfg := &config{rules: rules{hasAny: true}}
	m, sv, _, _ := newTestMemmon(cfg, []rpcclient.ProcessInfo{{Name: "FAILED", Group: "foo", PID: 12}, {Name: "x", Group: "foo", PID: 12}})
	m.alerts = nil // no -m
	m.scan(context.Background())
	want := []string{
		"getAllProcessInfo",
		"getProcessInfo foo:FAILED", "stopProcess foo:FAILED true",
		"getProcessInfo foo:x", "stopProcess foo:x true", "startProcess foo:x true",
	}
	if strings.Join(sv.calls, "; ") != strings.Join(want, "; ") {
		t.Errorf("calls = %q, want %q", sv.calls, want)
	}
}

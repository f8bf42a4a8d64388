package main

import (
	"fmt"
	"strings"
	"time"
)

// tools are the listeners, in the order the demo presents them.
var tools = []string{"httpok", "memmon", "crashmail", "crashmailbatch", "fatalmailbatch", "crashsms", "missingmail", "procmon"}

// mailDomain is the domain of every demo address; nothing leaves the machine.
const mailDomain = "demo.example"

// timing holds how fast the example programs misbehave. The short variant
// is for the end-to-end test; the normal one leaves time to read.
type timing struct {
	WebHangAfter  time.Duration // web answers, then hangs
	LeakStep      string        // leaky grows by this ...
	LeakEvery     time.Duration // ... this often
	LeakLimit     string        // memmon's limit for leaky
	LeakLimitMB   int
	CrashAfter    time.Duration // crasher runs this long, then exits 1
	BatchInterval string        // -i of the batch tools, in minutes
	MissingAfter  string        // missingmail's --missing-timeout, in seconds
	Deadline      time.Duration // give up waiting for every tool after this
}

var (
	normalTiming = timing{
		WebHangAfter:  12 * time.Second,
		LeakStep:      "2MB",
		LeakEvery:     500 * time.Millisecond,
		LeakLimit:     "32MB",
		LeakLimitMB:   32,
		CrashAfter:    8 * time.Second,
		BatchInterval: "0.25", // three TICK_5 events
		MissingAfter:  "10",
		Deadline:      80 * time.Second,
	}
	shortTiming = timing{
		WebHangAfter:  4 * time.Second,
		LeakStep:      "4MB",
		LeakEvery:     250 * time.Millisecond,
		LeakLimit:     "24MB",
		LeakLimitMB:   24,
		CrashAfter:    3 * time.Second,
		BatchInterval: "0.08", // every TICK_5 (5 s = 0.083 minutes)
		MissingAfter:  "5",
		Deadline:      60 * time.Second,
	}
)

// configParams fill the supervisord.conf template.
type configParams struct {
	timing
	WebAddr  string // 127.0.0.1:port of the web program
	SMTPAddr string // 127.0.0.1:port of the demo's mail server
	// Webhook is the demo's webhook receiver; Alertmanager is its
	// Alertmanager, "" when it is not installed.
	Webhook, Alertmanager string
}

// supervisordConf returns the demo's supervisord.conf. Every path is
// relative to the file's own directory (%(here)s), so the text works
// wherever it is copied, given the binaries in bin/ next to it.
func supervisordConf(p configParams) string {
	secs := func(d time.Duration) string { return d.String() }
	from := func(tool string) string { return tool + "@" + mailDomain }
	ops := "ops@" + mailDomain
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("; supervisord.conf of `make demo`. %%(here)s is the directory of this file;")
	w("; bin/ next to it holds the listeners and the example programs.")
	w("; For a production config with every option, see examples/supervisord.conf.")
	w("")
	w("[supervisord]")
	w("logfile=%%(here)s/supervisord.log")
	w("pidfile=%%(here)s/supervisord.pid")
	w("childlogdir=%%(here)s/logs")
	w("")
	w("; The listeners call supervisord's XML-RPC API over this socket")
	w("; (supervisord tells them where it is in SUPERVISOR_SERVER_URL).")
	w("[unix_http_server]")
	w("file=%%(here)s/supervisor.sock")
	w("chmod=0700")
	w("")
	w("[rpcinterface:supervisor]")
	w("supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface")
	w("")
	w("[supervisorctl]")
	w("serverurl=unix://%%(here)s/supervisor.sock")
	w("")
	w("; --- the programs being watched -------------------------------------")
	w("")
	w("; Answers HTTP, then hangs after %s: connections accepted, never answered.", secs(p.WebHangAfter))
	w("[program:web]")
	w("command=%%(here)s/bin/misbehave web -addr %s -hang-after %s", p.WebAddr, secs(p.WebHangAfter))
	w("stdout_logfile=%%(here)s/logs/web.log")
	w("redirect_stderr=true")
	w("")
	w("; Grows by %s every %s and never frees it.", p.LeakStep, secs(p.LeakEvery))
	w("[program:leaky]")
	w("command=%%(here)s/bin/misbehave alloc -step %s -every %s", p.LeakStep, secs(p.LeakEvery))
	w("stdout_logfile=%%(here)s/logs/leaky.log")
	w("redirect_stderr=true")
	w("")
	w("; Exits with status 1 after %s; supervisord restarts it every time.", secs(p.CrashAfter))
	w("[program:crasher]")
	w("command=%%(here)s/bin/misbehave crash -after %s -code 1", secs(p.CrashAfter))
	w("autorestart=true")
	w("stdout_logfile=%%(here)s/logs/crasher.log")
	w("redirect_stderr=true")
	w("")
	w("; Fails at once: BACKOFF, then FATAL after startretries attempts.")
	w("[program:nostart]")
	w("command=%%(here)s/bin/misbehave fail")
	w("startretries=2")
	w("stdout_logfile=%%(here)s/logs/nostart.log")
	w("redirect_stderr=true")
	w("")
	w("; --- the listeners ---------------------------------------------------")
	w("; TICK_5 is supervisord's fastest clock, so the demo reacts in seconds.")
	w("; Mail goes to the demo's SMTP server on %s; each tool has its own", p.SMTPAddr)
	w("; sender address so you can tell them apart. Their logs (stderr) are")
	w("; what you see narrated; stdout carries the event protocol only.")
	w("")
	w("; Restart web when http://%s/health does not answer 200 within 2 s.", p.WebAddr)
	w("[eventlistener:httpok]")
	w("command=%%(here)s/bin/httpok -t 2 -p web -m %s --smtp-host %s --from %s http://%s/health", ops, p.SMTPAddr, from("httpok"), p.WebAddr)
	w("events=TICK_5")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/httpok.log")
	w("")
	w("; Restart leaky when its resident memory is over %s.", p.LeakLimit)
	w("[eventlistener:memmon]")
	w("command=%%(here)s/bin/memmon -p leaky=%s -m %s --smtp-host %s --from %s", p.LeakLimit, ops, p.SMTPAddr, from("memmon"))
	w("events=TICK_5")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/memmon.log")
	w("")
	am := ""
	if p.Alertmanager != "" {
		am = " --alertmanager " + p.Alertmanager
	}
	w("; One mail per unexpected exit of crasher, and one JSON document to the")
	w("; demo's webhook (docs/alert.schema.json).")
	crashAM := ""
	if am != "" {
		w("; In Alertmanager: ProcessCrashed, which resolves itself 30 s later.")
		crashAM = am + " --resolve-after 30s"
	}
	w("[eventlistener:crashmail]")
	w("command=%%(here)s/bin/crashmail -p crasher -o demo -m %s --smtp-host %s --from %s --webhook %s%s", ops, p.SMTPAddr, from("crashmail"), p.Webhook, crashAM)
	w("events=PROCESS_STATE_EXITED")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/crashmail.log")
	w("")
	w("; Every unexpected exit, batched: one mail per %s minutes of TICK_5.", p.BatchInterval)
	w("[eventlistener:crashmailbatch]")
	w("command=%%(here)s/bin/crashmailbatch -t %s -f %s -H %s -e TICK_5 -i %s", ops, from("crashmailbatch"), p.SMTPAddr, p.BatchInterval)
	w("events=PROCESS_STATE_EXITED,TICK_5")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/crashmailbatch.log")
	w("")
	w("; Programs that could not be started (FATAL), batched the same way.")
	w("[eventlistener:fatalmailbatch]")
	w("command=%%(here)s/bin/fatalmailbatch -t %s -f %s -H %s -e TICK_5 -i %s", ops, from("fatalmailbatch"), p.SMTPAddr, p.BatchInterval)
	w("events=PROCESS_STATE_FATAL,TICK_5")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/fatalmailbatch.log")
	w("")
	w("; Short crash lines for an e-mail-to-SMS gateway (no Subject header).")
	w("[eventlistener:crashsms]")
	w("command=%%(here)s/bin/crashsms -t 15550100@sms.%s -f %s -H %s -e TICK_5 -i %s", mailDomain, from("crashsms"), p.SMTPAddr, p.BatchInterval)
	w("events=PROCESS_STATE_EXITED,TICK_5")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/crashsms.log")
	w("")
	w("; One mail when nostart or crasher has not been RUNNING for %s s (Buildbot's", p.MissingAfter)
	w("; notify_on_missing; an hour by default), one when it is back. crasher's")
	w("; restarts take a second or two: not news. It hears about every state")
	w("; change, so its buffer holds the burst at start-up.")
	w("[eventlistener:missingmail]")
	if am != "" {
		w("; In Alertmanager: ProcessMissing, firing until the program is back.")
	}
	w("command=%%(here)s/bin/missingmail -p nostart -p crasher --missing-timeout %s -m %s --smtp-host %s --from %s%s", p.MissingAfter, ops, p.SMTPAddr, from("missingmail"), am)
	w("events=PROCESS_STATE,TICK_5")
	w("buffer_size=100")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/missingmail.log")
	w("")
	w("; Start nostart again whenever supervisord gives up on it (FATAL): after")
	w("; 1 s, then 2 s, then 4 s at most; one mail when it is in a crash loop.")
	w("[eventlistener:procmon]")
	if am != "" {
		w("; In Alertmanager: ProcessCrashLoop while nostart loops, and a")
		w("; SupervisorHeartbeat that fires as long as procmon gets its ticks.")
	}
	procAM := ""
	if am != "" {
		procAM = am + " --heartbeat"
	}
	w("command=%%(here)s/bin/procmon -p nostart --threshold 3 --min-delay 1 --max-delay 4 -m %s --smtp-host %s --from %s%s", ops, p.SMTPAddr, from("procmon"), procAM)
	w("events=PROCESS_STATE,TICK_5")
	w("buffer_size=100")
	w("stdout_logfile=NONE")
	w("stderr_logfile=%%(here)s/logs/procmon.log")
	return b.String()
}

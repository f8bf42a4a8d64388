// Crashmail is a supervisord event listener that mails every unexpected
// exit of a supervisord program, a drop-in replacement for superlance's
// crashmail.
//
// Options: every option, with its default and each spelling it accepts, is
// listed by "crashmail --help" and under OPTIONS in the manual page (man
// crashmail); both come from the tool's command-line model, so this text
// does not repeat them.
//
// On PROCESS_STATE_EXITED with expected:0 it mails
//
//	Subject: NAME crashed at YYYY-MM-DD HH:MM:SS,mmm
//
//	Process NAME in group GROUP exited unexpectedly (pid PID) from state STATE
//
// (local time of handling, milliseconds truncated; "HEADER: NAME crashed
// at ..." with -o). Other events and expected exits are acknowledged and
// ignored. Mail is queued and delivered in the background with retries, so
// an event is acknowledged at once whatever the mail server does; on stdin
// EOF, SIGTERM or SIGHUP the queue is drained within a grace period (8 s).
// A write to a closed stdout or stderr (supervisord died) does not kill it:
// the queue is still delivered, then it exits.
//
// Positional arguments are accepted and ignored, as superlance does (its
// usage text mentions a URL that it never uses); a line on stderr says so.
//
// With --webhook or --alertmanager (the alert options every tool shares;
// README: Webhooks and Alertmanager) each alert also goes to the webhooks,
// and to every Alertmanager given as ProcessCrashed, an alert that fires for
// --resolve-after.
//
// supervisord.conf:
//
//	[eventlistener:crashmail]
//	command=/usr/local/bin/crashmail -p web -m ops@example.com
//	events=PROCESS_STATE_EXITED
//
// Log lines (stderr, prefixed "TIME crashmail: "): "unexpected exit, mailing"
// followed by a "Mailed:" block with the message, ending with a newline;
// without -m, the crash and "not mailed: -m/--email is not set".
//
// Exit codes: 0 on a clean stop (stdin EOF, SIGTERM, SIGHUP) and when not run by
// supervisord (SUPERVISOR_SERVER_URL unset: "crashmail must be run as a
// supervisor event listener" on stderr, checked after the options); 1 on a
// protocol error; 2 on a usage error (message on stderr).
//
// Differences from Python superlance: -p and -a filter (upstream mails
// every crash whatever they say); without -m nothing is mailed (upstream
// runs sendmail with "To: None"); no leading space in the subject without
// -o; the "Mailed:" block ends with a newline; a usage error goes to stderr
// with exit 2 (upstream: usage on stdout, exit 255); long options must be
// spelled in full (no prefixes); a value option given last without its
// value is an error; the mail carries From, Date, Message-ID and MIME
// headers besides To and Subject; SMTP delivery is available; an event
// supervisord delivers again (same pool and poolserial) is not mailed twice.
//
// Dropped events: supervisord keeps buffer_size events (10 by default) for
// a listener that is behind and drops the oldest. When the poolserial of
// the next event shows a gap, crashmail asks supervisord (getAllProcessInfo,
// off the event loop) what happened meanwhile, and sends one alert,
// "supervisord dropped N events: M program(s) reconstructed at TIME", with a
// line for each watched program it can prove something about: one
// (re)started after crashmail was last caught up, one now EXITED or FATAL
// since then whose event did not arrive. The alert says that it was
// reconstructed; how often a program crashed in between cannot be known.
// Upstream said nothing about dropped events.
package main

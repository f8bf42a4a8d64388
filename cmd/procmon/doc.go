/*
Procmon is a supervisord event listener that starts again the programs
supervisord leaves down, with the rule of Twisted's process monitor
(twisted.runner.procmon): a program that dies instantly is not restarted
right away; the delay before its restart doubles with every further
instant death, up to a maximum, and a successful run resets it.

supervisord gives up on a program that fails startretries times in a row
(FATAL, for good) and never restarts one with autorestart=false, or one
that exits with an expected code under autorestart=unexpected (EXITED).
Procmon restarts those, so that no cron job running "supervisorctl start
all" is needed, and a crash loop never hammers the machine.

Usage:

	procmon [-p NAME]... [-g GROUP]... [-a] [--threshold SECONDS]
	        [--min-delay SECONDS] [--max-delay SECONDS] [--budget N/DURATION]
	        [-s COMMAND] [-m ADDRESS] [SMTP options]

The rule. A run is the time from the program's RUNNING event to its exit;
a run shorter than --threshold, or a start that never reached RUNNING
(FATAL), is an instant death. After an instant death the restart waits
the current delay, which starts at --min-delay and then doubles, never
beyond --max-delay. After a run of at least --threshold the delay goes
back to --min-delay and the restart is immediate.

A watched program is started again (supervisor.startProcess, without
waiting) when it is FATAL, or EXITED and supervisord does not restart it
itself. Its state is read again right before acting: if supervisord (or a
person) has already moved it to STARTING, RUNNING or BACKOFF, procmon does
nothing. A program stopped on purpose (STOPPED, STOPPING: supervisorctl
stop, a shutdown) is never restarted, and a pending restart is dropped
when the program is stopped. A program removed from supervisord's
configuration is forgotten.

Every event is acknowledged at once: delays run on timers, and the calls
to supervisord and the mail run in the background. A fault from
supervisord (BAD_NAME, ALREADY_STARTED, SPAWN_ERROR, ...) or an
unreachable supervisord is logged and retried at the next opportunity;
procmon never exits on them. Once supervisord is shutting down it starts
nothing: on its SHUTDOWN_STATE fault, or at once when procmon is also
subscribed to SUPERVISOR_STATE_CHANGE_STOPPING
(events=PROCESS_STATE,TICK_60,SUPERVISOR_STATE_CHANGE_STOPPING), procmon
drops every pending restart and makes no more.

Consistency check: at start-up and on every TICK event procmon asks
supervisord for every process (getAllProcessInfo) and schedules each
watched program that is FATAL or EXITED and has no restart pending, so
that a dropped event, or a restart of procmon itself, never leaves a
program down. It also retries the restarts that failed, and logs each -p
and -g that names nothing supervisord has (not an error: programs can be
added later).

The flags are:

	-p, --program NAME
		Keep this program up: a program name, or group:name
		(repeatable). A bare name matches in any group.
	-g, --group GROUP
		Keep every program of this group up (repeatable).
	-a, --any
		Keep every program up, except procmon itself (found through
		SUPERVISOR_PROCESS_NAME and SUPERVISOR_GROUP_NAME). Note that this
		includes one-shot programs that are meant to exit.
	--threshold SECONDS
		A run shorter than this is an instant death. Default 10; at least
		3: supervisord notices an exit, and sends the event for it, up to
		about a second late when it is idle (its main loop polls once a
		second), so a program that dies at once can appear to have run
		for over a second, and a threshold near Twisted's 1 s would reset
		the delay exactly when it must grow.
	--min-delay SECONDS
		The delay after the first instant death. Default 1.
	--max-delay SECONDS
		The delay doubles up to this. Default 3600.
	--budget N/DURATION
		At most N restarts of all watched programs together in any
		sliding window of DURATION (e.g. 20/10m). When the budget is
		spent procmon restarts nothing, logs and mails one notice naming
		what it left down, and resumes by itself when the window allows.
		Default: no limit.
	-s, --sendmail_program COMMAND (also --sendmail)
		Mail command, run with /bin/sh -c, the message on its stdin.
		Default: /usr/sbin/sendmail -t -i.
	-m, --email ADDRESS
		Mail this address (commas separate several). Without -m nothing
		is mailed; the alerts are only logged.
	--smtp-host, --smtp-user, --smtp-password-env, --smtp-password-file,
	--smtp-tls, --smtp-cacert, --smtp-insecure, --from
		Deliver mail over SMTP instead of the sendmail command (the
		mail options every tool shares; see --help).
	--spool DIR
		Keep queued mail in DIR (one per listener) until it is sent,
		also across a restart of the listener or of the machine.
	--details
		Add what supervisord knows about the process to each mail: last exit status (signal decoded), run time,
		spawn error, description, state now, host.
	--log-tail N
		Add the last N lines of the program's stderr log (stdout when
		stderr is not logged apart), at most 16 KiB, control characters
		made visible.
	--flood N/DURATION
		At most N mails per program in any window of DURATION (3/10m);
		the rest are counted and summed up in one mail once the window
		has passed.
	--webhook URL, --webhook-format json|slack,
	--webhook-header 'NAME: VALUE', --webhook-header-file FILE,
	--alertmanager URL, --instance NAME, --label NAME=VALUE,
	--resolve-after DURATION (5m), --heartbeat
		Send each alert also to webhooks (JSON,
		docs/alert.schema.json, or slack) and to every Prometheus
		Alertmanager given, as ProcessCrashLoop, firing until the
		program recovers, and RestartBudgetSpent, firing until a
		whole window passes without a refused restart (an end that
		is logged, not mailed); --heartbeat keeps
		SupervisorHeartbeat firing while TICK events arrive (the
		options every alerting tool shares; README: Webhooks and
		Alertmanager).
	-h, --help
		Show the help on stdout and exit 0.

SECONDS and DURATION are a number of seconds (fractions allowed: 0.5) or
a Go duration (90s, 10m, 1h30m).

Mail. Never one per restart; three alerts, each logged ("KIND: SUBJECT")
and, with -m, mailed:

	ProcessCrashLoop    Subject: procmon: NAME is in a crash loop
	                    when a program dies instantly for the second time in
	                    a row (once per loop)
	RestartBudgetSpent  Subject: procmon: restart budget spent (N restarts in DURATION)
	                    when --budget first refuses a restart; no further
	                    notice until a whole window has passed without a
	                    refusal
	ProcessRecovered    Subject: procmon: NAME recovered
	                    when a looping program has run for --threshold

Log lines (stderr, prefixed "TIME procmon: ") say what procmon saw and did:
"web exited after 0.4s, an instant death (3 in a row): restarting it in
4s", "starting web (EXITED)", "web is RUNNING already; not starting it",
"web was stopped; not restarting it", "restart budget 20/10m spent:
leaving web FATAL until 15:04:05", "consistency check: web is FATAL and
no restart was scheduled: restarting it in 1s".

supervisord.conf:

	[program:web]
	command=/srv/web
	autorestart=false   ; or keep supervisord's BACKOFF with startretries=3:
	                    ; procmon takes over once it is FATAL
	[eventlistener:procmon]
	command=/usr/local/bin/procmon -p web --budget 20/10m -m ops@example.com
	events=PROCESS_STATE,TICK_60
	buffer_size=100
	environment=SUPERVISOR_USERNAME="user",SUPERVISOR_PASSWORD="secret"

PROCESS_STATE carries the deaths and the starts; the TICK is the
consistency check; buffer_size=100 keeps supervisord from dropping state
events at start-up, when every program changes state at once. The run length is measured when the events arrive, so
it carries supervisord's lag; events supervisord buffered before procmon
started arrive together and are measured as short runs.

Exit status: 0 after --help, on stdin EOF, SIGTERM or SIGHUP (pending
starts and queued mail get 8 seconds); 1 when not run under supervisord (no
SUPERVISOR_SERVER_URL: "procmon must be run as a supervisor event
listener"), with an unusable SUPERVISOR_SERVER_URL, or on a protocol error
on stdin; 2 for a bad command line (message on stderr): nothing to watch,
a bad duration, a threshold below 3 s, --min-delay above --max-delay, a
malformed --budget, mail settings that cannot work (an unusable address,
-s together with --smtp-host, ...).
*/
package main

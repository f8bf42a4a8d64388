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

Options: every option, with its default and each spelling it accepts, is
listed by "procmon --help" and under OPTIONS in the manual page (man
procmon); both come from the tool's command-line model, so this text does
not repeat them.

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

With --webhook or --alertmanager (the alert options every tool shares;
README: Webhooks and Alertmanager) each alert also goes to the webhooks, and
to every Alertmanager given as ProcessCrashLoop, firing until the program
recovers, or RestartBudgetSpent, firing until a whole window passes without
a refused restart (an end that is logged, not mailed). --threshold is at
least 3 because supervisord notices an exit, and sends its event, up to
about a second late when idle (its main loop polls once a second): a program
that dies at once can seem to have run for over a second, and a threshold
near Twisted's 1 s would reset the delay exactly when it must grow.

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

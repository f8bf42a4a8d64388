/*
Memmon is a supervisord event listener that restarts processes whose
resident memory (RSS) grows beyond a limit. It is a drop-in replacement for
superlance's memmon: the same options, the same log lines and the same mail,
but it reads the process table through /proc (gopsutil) instead of running
ps for every process, and it never blocks supervisord's event stream.

Options: every option, with its default and each spelling it accepts, is
listed by "memmon --help" and under OPTIONS in the manual page (man memmon);
both come from the tool's command-line model, so this text does not repeat
them.

On every TICK event memmon asks supervisord for its processes, takes one
snapshot of the process table, and checks every running process that a rule
names. It logs "RSS of GROUP:NAME is BYTES" for each, and restarts a process
whose RSS is strictly greater than its limit: getProcessInfo (for the
uptime), then stopProcess and startProcess, each waiting for the process.
The scan runs off the event loop: the event is acknowledged at once, and a
tick that arrives while the previous scan is still running is logged and
skipped.

Sizes are read as supervisor reads them: bytes, or a number followed by KB,
MB or GB (any case, powers of 1024: 1MB is 1048576 bytes). The number may
carry spaces around it, a + sign and _ between digits (" 1 mB", "1_000").
Anything else is refused with an error naming the option and the value:
1.5MB, 10KiB, 5b, 0x10, MB, -5 (upstream accepted negative sizes, which make
every process too big), and NAME=SIZE values without "=" or with an empty
name.

A SIZE may also be a share of the machine's memory: a number followed by
%, more than 0 and at most 100, decimals allowed (-p web=25%, -g
workers=40%, -a 50%, -p db=0.5%). The share is of MemTotal (/proc/meminfo;
in a container that is the host's memory, not the container's limit), read
once at start and logged in bytes, one line per limit:

	memmon: MemTotal is 8343252992 bytes: -p web=25% is 2085813248 bytes

0%, more than 100% and a % without a number are refused. supervisord
expands %(name)s in command=, so a literal % is written %% there
(command=memmon -p web=25%%).

--over N. Each scan that finds a process over its limit short of the Nth
time in a row logs "RSS of GROUP:NAME is over its limit of L bytes on 1 of
3 ticks in a row (--over 3); not restarting yet"; a scan that finds it
under again logs "RSS of GROUP:NAME is back under its limit of L bytes
after 1 tick over it; counting from 0 again". A new pid (the process was
restarted by someone else) or a scan that does not measure it (not
running) starts the count again, as does a restart. Every mail about the
restart ends with the readings, after a blank line:

	RSS over the limit of 209715200 bytes on 3 ticks in a row (--over 3): 231211008, 232783872, 240123904 bytes

Rules. For each process the most specific rule decides:
-p group:name, then -p name, then -g group, then -a. So with -a 200MB
-p db=1GB, db may use up to 1GB. A process is restarted at most once per
tick. memmon never measures or restarts itself (found through
SUPERVISOR_PROCESS_NAME and SUPERVISOR_GROUP_NAME), even under -a.

Mail, as upstream sends it:

	Subject: memmon: process GROUP:NAME restarted
	memmon.py restarted the process named GROUP:NAME at Sat Nov 21 16:23:32 2026 UTC because it was consuming too much memory (123456789 bytes RSS)

If stopping fails, memmon logs "Failed to stop process GROUP:NAME (RSS R):
FAULT", mails it with the subject "failed to stop process GROUP:NAME,
exiting" and does not start the process; if starting fails it logs "Failed
to start process GROUP:NAME after stopping it: FAULT" and mails it with
the subject "failed to start process GROUP:NAME, exiting". The subjects keep
upstream's words for existing mail filters, but memmon does not exit: it
goes on with the next process and the next tick. Mail is queued and
delivered in the background, with retries.

With --webhook or --alertmanager (the alert options every tool shares;
README: Webhooks and Alertmanager) each alert also goes to the webhooks, and
to every Alertmanager given as MemoryLimitRestart, an alert that fires for
--resolve-after.

supervisord.conf:

	[eventlistener:memmon]
	command=memmon -p web=200MB -g workers=500MB -a 1GB -m ops@example.com
	events=TICK_60

A stop or start waits for the process (up to its stopwaitsecs, or its
startsecs), so memmon allows each call two minutes. The uptime that -u
compares is supervisord's own (now minus start, from getProcessInfo).
When memmon is told to stop (stdin EOF, SIGTERM, SIGHUP) during a restart,
the restart is completed first, however long the stop takes: a program
stopped on request is never restarted by supervisord, so a restart cut in
half would leave it down for good. Give memmon's [eventlistener] a
stopwaitsecs above the monitored programs' stopwaitsecs plus startsecs. When
supervisord itself is shutting down (it answers SHUTDOWN_STATE), memmon does
not try: it logs and mails "Process GROUP:NAME was stopped (RSS N) and is not
started again: supervisord is shutting down" (subject "process GROUP:NAME
stopped: supervisord is shutting down"), or "Not restarting GROUP:NAME (RSS
N): supervisord is shutting down" when the stop itself was refused.
Subscribed to SUPERVISOR_STATE_CHANGE_STOPPING as well
(events=TICK_60,SUPERVISOR_STATE_CHANGE_STOPPING), memmon learns of the
shutdown at once and asks for neither.

Exit status: 0 after --help or when supervisord closes stdin or sends
SIGTERM or SIGHUP (queued mail is delivered first, within a few seconds); 1 when not
run under supervisord (no SUPERVISOR_SERVER_URL: "memmon must be run as a
supervisor event listener"), with an unusable SUPERVISOR_SERVER_URL, when
a limit is given in percent and the machine's memory cannot be read, or on
a protocol error on stdin; 2 for a bad command
line, including an empty one (upstream printed its usage and exited 255;
usage errors go to stderr because stdout belongs to the event protocol).

Differences from Python superlance's memmon: the memory comes from /proc,
not from ps; the most specific rule decides and a process is restarted at
most once per tick (upstream could restart it twice, and -p group:name
crashed it); the mail subject name comes from -n only (upstream let a later
-p or -g name replace it); a stop or start fault no longer kills the
listener; memmon never restarts itself; negative sizes and times and empty
names are refused; only full option names and the aliases --groupname and
--sendmail are accepted (no prefixes of them, such as upstream's "prog" for "program"), and a stray
argument that is not an option is an error (upstream ignored it and
everything after it); every log line is
prefixed "TIME memmon: ", and with no rule at all nothing is logged per tick.
--over and limits in percent are new; their defaults are upstream's
behaviour.
*/
package main

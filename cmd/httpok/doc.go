/*
Httpok is a supervisord event listener that checks a URL on every TICK event
and, when the answer is bad or missing, restarts processes and mails a report.
It is a drop-in replacement for Python superlance's httpok: same options,
defaults, decisions and mail texts.

Options: every option, with its default and each spelling it accepts, is
listed by "httpok --help" and under OPTIONS in the manual page (man httpok);
both come from the tool's command-line model, so this text does not repeat
them.

On each TICK_* event httpok GETs URL (http or https, redirects not followed,
headers "User-Agent: httpok" and "Accept-Encoding: identity"). The check is
bad when the status is not one of the -c codes (a refused connection, a
timeout or any other error always is), or, with -b, when the body does not
contain the -b text. Then httpok restarts (stopProcess, then startProcess,
each waiting for supervisord) every RUNNING process named by -p, or every
process with -a, and, with -m, mails the lines it reported. The subject is
"httpok: URL: bad status returned" or "httpok: URL: bad body returned"
("httpok [NAME]: ..." with -n).

The event is acknowledged at once: the check, the restarts and the mail run in
the background. When a tick arrives while the previous one's work is still
running, it is logged ("previous check still running; skipping TICK_5") and
skipped.

The report lines are upstream's, in upstream's order, and each is also logged
to stderr as it happens:

	status contacting URL: 500 Internal Server Error
	Restarting selected processes ['web', 'api:worker']
	gcore output for web:
	...
	web is in RUNNING state, restarting
	Failed to stop process web: <Fault 30: 'FAILED'>
	web restarted
	api:worker not in RUNNING state, NOT restarting
	Programs not restarted because they did not exist: ['nosuch']

A failed check starts with "error contacting URL:", a blank line and the real
error, e.g. " dial tcp 127.0.0.1:8080: connect: connection refused" or
" timed out after 10s".

Check policies. Without the options below httpok decides exactly as
upstream does; each of them is opt-in.

With --failures N a failed check is logged as always, followed by "1 of 3
failed checks in a row (--failures 3); not acting yet", until the Nth
failure in a row: then httpok acts, and the report starts with one line per
failed check, its local time and its first line made one line, before the
usual lines:

	3 checks in a row failed:
	2026-12-02 04:20:00 status contacting http://127.0.0.1:8080/health: 500 Internal Server Error
	2026-12-02 04:21:00 error contacting http://127.0.0.1:8080/health: timed out after 10s
	2026-12-02 04:22:00 status contacting http://127.0.0.1:8080/health: 500 Internal Server Error

	status contacting http://127.0.0.1:8080/health: 500 Internal Server Error
	Restarting selected processes ['web']
	...

A passing check ("check passed after 2 failed checks; counting from 0
again"), a restart and, with -E, a tick without a monitored process RUNNING
start the count again. When httpok could not act at all (getAllProcessInfo
failed), the next failed check tries again.

With --grace SECONDS httpok reads the process list on every tick. While a
monitored process (named by -p, or any process with -a, never httpok
itself) is STARTING (inside its startsecs) or has been RUNNING for less
than SECONDS (supervisord's now minus its start time) the tick is logged
("not checking: web has been RUNNING for 12s, less than --grace 30s") and
nothing is checked; a process found
RUNNING for less than SECONDS when httpok acts is not restarted ("web has
been RUNNING for 2s, less than --grace 30s, NOT restarting"). A failure
count under --failures starts again after such a tick.

--header, --header-file and --basic-auth-file are read once, at start. A
header without ':' or with a line break, one httpok sets itself
(Accept-Encoding, Connection, Content-Length, Transfer-Encoding), an
Authorization header together with --basic-auth-file, and a file that
cannot be read or has no USER:PASSWORD are usage errors (exit 2); no error,
log line or mail shows a header value or the login. A header given twice is
sent twice; one the check sets (User-Agent) is replaced.

With --webhook or --alertmanager (the alert options every tool shares;
README: Webhooks and Alertmanager) each report also goes to the webhooks,
and to every Alertmanager given as HealthCheckFailed, firing until a check
passes. --flood counts per program, or per URL for a report about several;
eager mode's "not in RUNNING state" report on every tick is among what it
sums up.

Configuration:

	[eventlistener:httpok]
	command=httpok -p web -m ops@example.com -t 5 http://127.0.0.1:8080/health
	events=TICK_60
	environment=SUPERVISOR_USERNAME="user",SUPERVISOR_PASSWORD="123"

SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD are needed when supervisord's
unix_http_server or inet_http_server requires a login: supervisord does not
pass them to listeners itself.

Shutdown: on stdin EOF, SIGTERM or SIGHUP httpok reads no more events; the
check in progress and queued mail are given DefaultGrace, 8 s, to finish.
A restart that has begun (stopProcess called) is never cut: its start
follows, however long the stop takes, and the report is mailed afterwards,
with 8 s of its own. When supervisord itself is shutting down it refuses to
start anything (SHUTDOWN_STATE), and the report says "NAME was stopped and is
not started again: supervisord is shutting down" (or, when the stop was
refused, "NAME not restarted: supervisord is shutting down"). Subscribed
to SUPERVISOR_STATE_CHANGE_STOPPING as well (events=TICK_60,SUPERVISOR_STATE_CHANGE_STOPPING),
httpok learns of the shutdown at once and asks for neither. Give httpok's
[eventlistener] a stopwaitsecs above the monitored programs' stopwaitsecs
plus startsecs, or supervisord kills it with SIGKILL in the middle.

Exit status: 0 after stdin ends or SIGTERM or SIGHUP, and when not started by supervisord
(SUPERVISOR_SERVER_URL unset: "httpok must be run as a supervisor event
listener"); 1 on a protocol error on stdin or an unusable
SUPERVISOR_SERVER_URL; 2 on a bad command line (message on stderr), before
the first READY is written.

Deadlines: getAllProcessInfo 10 s; stopProcess and startProcess 2 minutes
each (supervisord answers only once the process has stopped, which may take
its stopwaitsecs, or has stayed up for its startsecs); gcore 60 s; mail 30 s
per attempt, retried in the background.

Differences from Python httpok:

  - -b works (a plain substring test); on Python 3 upstream crashed on every
    tick instead.
  - -a never restarts httpok itself (found by SUPERVISOR_PROCESS_NAME and
    SUPERVISOR_GROUP_NAME); upstream stopped itself first and restarted
    nothing else. Other event listeners are restarted, as upstream.
    A -p entry naming httpok itself is skipped the same way.
  - -E counts a process as monitored by name or group:name, and -E -a counts
    any process; upstream looked at bare names only.
  - Errors carry their real text ("connection refused", "timed out after
    10s"); upstream showed "getaddrinfo returns an empty list".
  - -t is one deadline for the whole check and must be a positive number;
    upstream's -t 0 failed every check without a request.
  - https uses SNI and IPv6; certificates are still not verified unless
    --https-verify or --https-cacert is given, as upstream.
  - The gcore command is split into words and run without a shell. The core
    file is always directly inside --coredir: a '/' in the process name
    becomes '_' and a name of only dots gets a leading '_' (upstream joined
    the name as a path, so "../x" or "/x" left the directory).
  - A stop or start that cannot reach supervisord is reported and httpok goes
    on; upstream crashed. A stop whose answer was lost is followed by a
    probe, and the report says when supervisord is shutting down or gone and
    the program may be left stopped. A failed getAllProcessInfo is logged and the tick
    skipped.
  - In eager mode (the default) the process list is read only when acting,
    not on every tick.
  - Options take their full names (and --sendmail); upstream also accepted any
    unambiguous prefix. Usage errors go to stderr with exit 2 (upstream:
    usage on stdout, exit 255), and options after the URL are accepted.
  - Mail goes through a background queue with retries; --smtp-host and
    friends deliver over SMTP instead of sendmail.
  - --failures, --grace, --header, --header-file, --basic-auth-file and
    --method are new; their defaults are upstream's behaviour.
*/
package main

// Missingmail is a supervisord event listener that mails once when a
// program has not been RUNNING for too long, and once when it is back:
// Buildbot's notify_on_missing, for supervisord programs.
//
// Options: every option, with its default and each spelling it accepts, is
// listed by "missingmail --help" and under OPTIONS in the manual page (man
// missingmail); both come from the tool's command-line model, so this text
// does not repeat them.
//
// An episode starts when a watched process leaves RUNNING, or is found not
// RUNNING, and ends when it is RUNNING again. Once an episode has lasted
// --missing-timeout, exactly one mail goes out for it:
//
//	Subject: web is missing: not RUNNING for 1h0m5s
//
//	Program:     web
//	State:       FATAL
//	Down since:  2026-11-21 16:23:32 +0100 (1h0m5s ago)
//	Description: Exited too quickly (process log may have details)
//	Spawn error: Exited too quickly (process log may have details)
//	Exit status: 1
//
//	missingmail reports each episode once; another mail follows when the program is RUNNING again.
//
// (Description, spawn error and exit status are supervisord's, from
// getAllProcessInfo; the exit status is shown once the process has
// stopped at least once.) When a reported episode ends, one recovery mail:
//
//	Subject: web is back: RUNNING after 1h2m3s down
//
//	Program:     web
//	State:       RUNNING (pid 4242)
//	Down since:  2026-11-21 16:23:32 +0100
//	Back at:     2026-11-21 17:25:35 +0100
//	Down for:    1h2m3s
//	Reported at: 2026-11-21 17:23:35 +0100
//
// Episodes shorter than the timeout produce no mail at all. Programs whose
// timeouts expire on the same tick go out in one mail ("Subject: 2
// programs are missing: web, app:worker_01", one block per program);
// recoveries found together likewise.
//
// State changes come from PROCESS_STATE events; the timeouts are checked
// on every TICK event, after comparing the episodes with supervisord's
// process table (getAllProcessInfo), so that dropped events, a restarted
// supervisord or a restarted listener never lose an episode. A program
// found down without having been seen going down is taken to be down
// since supervisord's stop time for it (or since now, if it never ran);
// one found RUNNING again is back since supervisord's start time for it.
// A program found EXITED that supervisord says was started after its
// episode began ran again unseen: that episode ended (recovery mail if it
// was reported) and a new one began. When supervisord has dropped events
// (a gap in the pool's serial numbers) the check runs at once rather than
// at the next tick. The check runs off the event loop,
// which acknowledges every event at once; mail is queued and delivered in
// the background with retries. On stdin EOF, SIGTERM or SIGHUP the queue
// is drained (and the --state file written) within a grace period (8 s);
// a write to a closed stdout or stderr (supervisord died) does not kill it.
//
// One of -p, -g and -a is required; a -p or -g that matches no process is
// logged at the first check (and again if it stops matching later). By
// default STOPPED counts as missing: a program with autostart=false after
// a reboot is STOPPED, and that is the case to catch.
//
// --state FILE keeps every open episode (its start, and whether it was
// reported) in a JSON file, rewritten atomically (a new file renamed over
// the old) whenever the set changes. A restarted listener, or one
// restarted with supervisord, then continues each episode where it was: a
// reported program still down is not mailed again, one that came back
// meanwhile gets its recovery mail, and the down time counts from the
// original start. A missing file starts empty; an unreadable or corrupt
// one is logged and ignored (and replaced at the next change). Without
// --state a restarted listener knows nothing: a program still down is
// reported again once the timeout has passed, counted from supervisord's
// stop time for it (so at the first tick when that was long ago), and no
// recovery mail follows for an episode reported before the restart.
//
// With --webhook or --alertmanager (the alert options every tool shares;
// README: Webhooks and Alertmanager) each alert also goes to the webhooks,
// and to every Alertmanager given as ProcessMissing, one per program, firing
// until it is back.
//
// supervisord.conf:
//
//	[eventlistener:missingmail]
//	command=/usr/local/bin/missingmail -a -m ops@example.com --state /var/lib/superlance/missingmail.json
//	events=PROCESS_STATE,TICK_60
//	buffer_size=100
//	environment=SUPERVISOR_USERNAME="...",SUPERVISOR_PASSWORD="..."
//
// TICK_60 bounds how late a report is (up to a minute after the timeout);
// with TICK_5 it is at most five seconds. Subscribe to PROCESS_STATE too:
// without it, transitions are seen only at the next tick. It hears every
// state change, so buffer_size=100 keeps supervisord from dropping the
// burst at start-up (the check would catch up, but later).
//
// Log lines (stderr, prefixed "TIME missingmail: "): what is watched; each
// episode that starts ("web is EXITED: not RUNNING since ...; reported if
// still so at ...") or ends unreported; each report and recovery; mail
// delivery by the queue; "initial check: N watched process(es), K not
// RUNNING" once the first check has read supervisord's process table.
//
// Exit codes: 0 on a clean stop (stdin EOF, SIGTERM, SIGHUP); 1 on a protocol
// error, an unusable SUPERVISOR_SERVER_URL, and when not run by
// supervisord (SUPERVISOR_SERVER_URL unset: "missingmail must be run as a
// supervisor event listener" on stderr, checked after the options); 2 on a
// usage error (message on stderr): no -m, nothing to watch, a timeout that
// is not a positive duration, a --state whose directory does not exist or
// does not accept new files, mail settings that cannot work (as for every
// tool).
//
// Differences from Buildbot's notify_on_missing: a recovery mail when a
// reported episode ends (off with --no-recovery); several programs due on
// the same tick share one mail; STOPPED counts as missing unless
// --ignore-stopped; the timeout is measured in ticks, so a report comes up
// to one tick period after it expires; --state carries episodes across
// restarts, where Buildbot keeps its timers in memory.
package main

// Crashmailbatch is a supervisord event listener that collects the unexpected exits of supervisord programs and mails them in one message per interval,
// a drop-in replacement for superlance's crashmailbatch.
//
// Options: every option, with its default and each spelling it accepts, is
// listed by "crashmailbatch --help" and under OPTIONS in the manual page
// (man crashmailbatch); both come from the tool's command-line model, so
// this text does not repeat them.
//
// On PROCESS_STATE_EXITED with expected:0 it collects the line
//
//	<asctime> -- Process GROUP:NAME (pid PID) died unexpectedly
//
// (asctime: local time of handling, YYYY-MM-DD HH:MM:SS,mmm) and logs it.
// Each -e tick event adds its period; when that reaches -i the collected
// lines go out as ONE mail, joined by newlines, and the sum restarts. Empty
// batches send nothing. The subject defaults to "Crash alert from supervisord".
//
// Sending happens in the background: an event is acknowledged at once,
// even while the mail server stalls. A batch that cannot be sent is kept,
// merged with the next lines and retried at the next flush; at most 10,000
// lines are kept, and dropped lines are counted in the log and in the next
// mail ("(N older alerts dropped: mail could not be sent)"). A flush due
// while the previous one is still sending is skipped; the next carries
// everything. On stdin EOF, SIGTERM or SIGHUP pending lines are sent within 8 s,
// also when supervisord died and stdout and stderr are closed.
// When supervisord reports dropped events (a poolserial gap), a line saying
// so is added to the batch. The tool then asks supervisord
// (getAllProcessInfo, off the event loop) what happened meanwhile and adds
// a line, marked "(reconstructed from supervisord's process table after N
// dropped events)", for each program it can prove something about: one
// (re)started after the listener was last caught up ("Process G:N was
// (re)started at TIME while events were dropped: ..."), one now EXITED or
// FATAL since then whose event did not arrive.
// Nothing is reconstructed when supervisord cannot be reached.
//
// Positional arguments are ignored, as superlance does.
//
// With --webhook or --alertmanager (the alert options every tool shares;
// README: Webhooks and Alertmanager) each line also goes at once, not
// batched, to the webhooks, and to every Alertmanager given as
// ProcessCrashed, an alert that fires for --resolve-after. --details adds
// what supervisord knows about the process to each line; --log-tail adds,
// after the lines, one tail per program and mail.
//
// supervisord.conf (subscribe to what the tool needs: supervisord hands a
// listener only so many events per second, and its buffer is 10 events):
//
//	[eventlistener:crashmailbatch]
//	command=/usr/local/bin/crashmailbatch -t ops@example.com -f supervisord@example.com -H smtp.example.com:587 --tls -u alerts --smtp-password-file /etc/crashmailbatch.pw
//	events=PROCESS_STATE_EXITED,TICK_60
//
// Log lines (stderr, prefixed "TIME crashmailbatch: ", one per fact): each collected
// line; after a successful flush superlance's block "Sending notification
// email:", "To: a, b", "From: x", "Subject: s" (or "Subject: None"),
// "Body:", then the first 76 characters of the body (plus "..." when
// longer), one log line per body line; after a failed one "Error sending
// email: ERROR" and "N alerts kept for the next flush". When the server
// refuses some recipients the others still get the mail (as upstream) and
// the refusal is logged as "Error sending email: ... (delivered to the
// other recipients)"; the batch is not sent again.
//
// Exit codes: 0 on a clean stop; 1 when not run by supervisord
// (SUPERVISOR_SERVER_URL unset: "Must run as a supervisor event listener",
// checked after the options) and on a protocol error; 2 on a usage error
// (message on stderr), including a missing -t or -f, a bad -i or -e.
//
// Differences from Python superlance: a failed batch is kept and retried
// (upstream drops it and logs "Sending" anyway); the Sending block is only
// logged after a successful send; SMTP has timeouts and never blocks event
// handling; certificates are verified (upstream verifies nothing; use
// --smtp-cacert or --smtp-insecure); --tls means STARTTLS is required even
// without credentials (upstream ignores --tls without them); -u without a
// password or the reverse is an error (upstream silently skips AUTH);
// credentials without TLS are refused at start-up unless
// the server is localhost (upstream sends the password in clear text); -i
// inf/nan/negative, -e other than TICK_5/TICK_60/TICK_3600, an empty -H or
// --sendmail=, a port outside 1-65535 and a missing -t/-f are usage errors
// with exit 2 (upstream: never flushes / traceback exit 1 / help on stdout
// exit 1); empty parts of -t ("a,,b") are skipped (upstream sent them and
// the server refused them); -i is counted in whole seconds (upstream sums
// float minutes: with TICK_5, -i 0.5 flushed after 7 ticks, not 6);
// long options must be spelled in full; repeated events (a redelivery)
// are not collected twice.
package main

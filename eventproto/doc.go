// Package eventproto implements the listener side of supervisord's event
// protocol: the part every event listener shares, whatever it does with the
// events.
//
// A listener is a child of supervisord that talks the protocol on its stdin
// and stdout. It announces that it is ready, receives one event, answers with
// a result, and starts again:
//
//	listener -> supervisord   READY\n
//	supervisord -> listener   ver:3.0 server:supervisor serial:26 pool:crashmail poolserial:26 eventname:PROCESS_STATE_EXITED len:76\n
//	supervisord -> listener   processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:8802
//	listener -> supervisord   RESULT 2\nOK        (or RESULT 4\nFAIL: supervisord redelivers the event)
//
// The header line is a set of key:value tokens separated by spaces. len is
// the length of the payload in characters (Unicode code points), not bytes,
// so a payload with non-ASCII text is longer than len bytes on the wire.
// Nothing is written to the listener's stdin until it sends READY again.
// A header must carry ver and len; one without ver is how a len shorter than
// its payload shows (the rest of the payload is read as the next header and
// swallows its leading ver token), and ends the stream with a
// [*ProtocolError] rather than misreading every later event.
//
// A [Listener] speaks that protocol over any io.Reader and io.Writer. Its
// [Listener.Next] returns an [Event]: the parsed [Header], the payload, and
// what the Listener learnt from the poolserial counters (events supervisord
// dropped, events delivered twice). The payload parsers ([ParseProcessState],
// [ParseTick], [ParseProcessLog], [ParseProcessCommunication],
// [ParseRemoteCommunication], [ParseProcessGroup]) turn a payload into typed
// fields; SUPERVISOR_STATE_CHANGE_* events have an empty payload.
//
// The Listener remembers the last poolserial of each pool. A jump means
// supervisord dropped events (its per-pool buffer overflowed while the
// listener was slow): [Event.Missed] says how many. The same poolserial again
// is a redelivery, after FAIL or after a listener died while busy:
// [Event.Repeat]. Repeat is also set for a cross-pool duplicate: with the
// default priorities, a FAIL in any pool re-queues the event in every pool,
// with its original serial and poolserial, so a pool that already had it
// gets it again, possibly after newer events; the Listener recognises it
// among the last 64 (serial, poolserial) pairs of the pool. A pool that
// never had the event gets it under a fresh poolserial, which nothing
// distinguishes from a new event. A lower poolserial that was not seen
// before means the pool was recreated (supervisorctl reload): a reset,
// neither gap nor repeat.
//
// [Serve] is the event loop the commands share: it reads in its own
// goroutine so that SIGTERM (a cancelled context) stops it at once, calls a
// [Handler] for each event, acknowledges it together with the next READY,
// and drains in-flight work within a grace period when reading stops. A [Worker] runs slow work (network calls, mail)
// off the loop, because supervisord drops events when a listener is slow.
//
// stdout must carry protocol bytes only: supervisord puts a listener that
// writes anything else into the UNKNOWN state and never sends it another
// event. Log to stderr.
package eventproto

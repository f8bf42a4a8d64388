// Package alertctx is the alert policy every alerting tool shares: what an
// alert says about the process (Details, a block of what supervisord knows
// about it, and Tail, the last lines of its log) and how often alerts go out
// (Flood, at most N alerts per program in any window, the rest summed up in
// one summary).
//
// Context is fetched off the event loop, with a short deadline: a Pipeline
// takes requests without blocking, fetches them concurrently and hands the
// results over in the order the requests came, so that a tool's alerts keep
// their order and none waits longer than the deadline. An alert whose
// context could not be fetched goes out without it and says so.
//
// A Sender puts it together in front of a tool's delivery: the tool hands
// it each alert (an alert.Alert) and the process it is about; the Sender
// applies --flood, adds the context the options ask for, to the text and
// as the alert's structured Details, and delivers. Flags is the one set of
// options (--details, --log-tail, --flood) that every alerting tool embeds
// in its command line. Without them the Sender passes every alert on at
// once, untouched, and asks supervisord nothing.
//
// The log tail goes into the text, inline after it, rather than into an
// attachment: it reads the same in every mail client, in SMS gateways'
// mail and in the JSON of the webhook and Alertmanager transports.
//
// Time comes from a Clock, so that tests drive flood windows by hand.
package alertctx

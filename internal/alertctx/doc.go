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
// Flags is the one set of options (--details, --log-tail, --flood) that
// every alerting tool embeds in its command line. Without them nothing here
// runs and every alert stays exactly what it was.
//
// Time comes from a Clock, so that tests drive flood windows by hand.
package alertctx

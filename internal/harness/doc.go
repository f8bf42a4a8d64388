// Package harness runs the real parts that the integration tests, the demo
// (internal/demo) and the bench harness (internal/benchharness) need,
// without depending on package testing: a supervisord -n in a directory of
// its own (Launch), an SMTP server (StartSMTP, emersion/go-smtp, with
// STARTTLS, AUTH PLAIN, stalls and refusals), a sendmail stand-in
// (NewSendmail), and supervisord's side of the event protocol (Driver).
// Every helper returns an error; internal/svtest wraps them for tests.
//
// A supervisord from a Config listens on a unix socket with Basic auth;
// listeners get SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD through
// environment=, as an operator would configure them. Everything (config,
// socket, pid file, supervisord's log, one <process>.out/<process>.err per
// process) lives in Supervisor.Dir.
package harness

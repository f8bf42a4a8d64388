// Package rpcclient calls supervisord's XML-RPC API, the way an event
// listener does: over the unix socket or HTTP address that supervisord puts
// in SUPERVISOR_SERVER_URL, with optional Basic auth.
//
// A Client is built from a listener's environment with FromEnv, or from an
// explicit URL with New:
//
//	c, err := rpcclient.FromEnv(os.Environ())
//	...
//	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
//	defer cancel()
//	err = c.StopProcess(ctx, "web:app", true)
//
// Every call takes a context; give it a deadline, because supervisord may
// hold a stopProcess/startProcess answer for stopwaitsecs/startsecs.
//
// Errors name the call they come from:
//
//	supervisor.stopProcess "web:app": supervisor fault 70 NOT_RUNNING: web:app
//
// A fault answered by supervisord is a *Fault: use errors.As to read its
// Code and compare it with the FaultCode constants (FaultBadName,
// FaultNotRunning, ...). Everything else (connection refused, HTTP 401 or
// 500, a non-XML answer, an undecodable body) is a transport error; HTTP
// status errors are a *StatusError.
//
// Process states are ProcessState values (StateRunning, StateFatal, ...),
// whose String is supervisord's state name.
//
// supervisord sends log text with control characters unescaped, which is not
// legal XML 1.0. The client drops such characters before decoding, so
// reading a log that contains ANSI colour codes works; the escape bytes are
// missing from the returned text.
//
// github.com/kolo/xmlrpc is used only to encode requests and decode answers;
// the HTTP exchange, deadlines and fault typing are done here.
package rpcclient

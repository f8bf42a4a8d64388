package rpcclient

import (
	"context"
	"fmt"
)

// GetAllProcessInfo returns every process, sorted by group then name.
func (c *Client) GetAllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	var infos []ProcessInfo
	if err := c.Call(ctx, "supervisor.getAllProcessInfo", &infos); err != nil {
		return nil, err
	}
	return infos, nil
}

// GetProcessInfo returns the process named by namespec (name or group:name).
func (c *Client) GetProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	var info ProcessInfo
	err := c.Call(ctx, "supervisor.getProcessInfo", &info, name)
	return info, err
}

// StartProcess starts name. With wait, supervisord answers only once the
// process is RUNNING (after startsecs), or with a FaultSpawnError or
// FaultAbnormalTermination fault. For a group spec ("group:*") the error
// is the fault of the first process that could not be started; use
// StartProcessGroup for every process's result.
func (c *Client) StartProcess(ctx context.Context, name string, wait bool) error {
	return c.callAction(ctx, "supervisor.startProcess", name, wait)
}

// StopProcess stops name. With wait, supervisord answers once the process
// is stopped, which can take stopwaitsecs. Group specs as in StartProcess.
func (c *Client) StopProcess(ctx context.Context, name string, wait bool) error {
	return c.callAction(ctx, "supervisor.stopProcess", name, wait)
}

// SignalProcess sends signal ("HUP", "SIGHUP" or a number such as "1") to
// name. Group specs as in StartProcess.
func (c *Client) SignalProcess(ctx context.Context, name, signal string) error {
	return c.callAction(ctx, "supervisor.signalProcess", name, signal)
}

// StartProcessGroup starts every process of group, waiting for each as
// StartProcess does. The results come in the order the processes finished
// starting; a process that was already running is not listed, one that
// failed is listed with its fault (see ProcessResult.Err).
func (c *Client) StartProcessGroup(ctx context.Context, group string, wait bool) ([]ProcessResult, error) {
	var res []ProcessResult
	err := c.Call(ctx, "supervisor.startProcessGroup", &res, group, wait)
	return res, err
}

// StopProcessGroup stops every process of group, as StartProcessGroup.
func (c *Client) StopProcessGroup(ctx context.Context, group string, wait bool) ([]ProcessResult, error) {
	var res []ProcessResult
	err := c.Call(ctx, "supervisor.stopProcessGroup", &res, group, wait)
	return res, err
}

// callAction calls a method that answers true for one process and an array
// of ProcessResult for a group spec.
func (c *Client) callAction(ctx context.Context, method, name string, arg any) error {
	resp, err := c.call(ctx, method, []any{name, arg})
	if err != nil {
		return err
	}
	var reply any
	if err := resp.Unmarshal(&reply); err != nil {
		return fmt.Errorf("%s %q: decoding response: %w", method, name, err)
	}
	switch v := reply.(type) {
	case bool:
		if !v {
			return fmt.Errorf("%s %q: supervisord answered false", method, name)
		}
		return nil
	case []any:
		var results []ProcessResult
		if err := resp.Unmarshal(&results); err != nil {
			return fmt.Errorf("%s %q: decoding group results: %w", method, name, err)
		}
		for _, r := range results {
			if err := r.Err(); err != nil {
				return fmt.Errorf("%s %q: %w", method, name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s %q: unexpected answer %T", method, name, reply)
}

// ReadProcessStdoutLog reads length bytes of name's stdout log from offset
// (offset < 0 with length 0: the last -offset bytes).
func (c *Client) ReadProcessStdoutLog(ctx context.Context, name string, offset, length int) (string, error) {
	return c.readLog(ctx, "supervisor.readProcessStdoutLog", name, offset, length)
}

// ReadProcessStderrLog is ReadProcessStdoutLog for stderr.
func (c *Client) ReadProcessStderrLog(ctx context.Context, name string, offset, length int) (string, error) {
	return c.readLog(ctx, "supervisor.readProcessStderrLog", name, offset, length)
}

func (c *Client) readLog(ctx context.Context, method, name string, offset, length int) (string, error) {
	var s string
	err := c.Call(ctx, method, &s, name, offset, length)
	return s, err
}

// TailProcessStdoutLog returns at most length bytes of name's stdout log
// starting at offset; if more is available, the last length bytes and
// Overflow set. Offset of the answer is where to continue.
func (c *Client) TailProcessStdoutLog(ctx context.Context, name string, offset, length int) (LogTail, error) {
	return c.tailLog(ctx, "supervisor.tailProcessStdoutLog", name, offset, length)
}

// TailProcessStderrLog is TailProcessStdoutLog for stderr.
func (c *Client) TailProcessStderrLog(ctx context.Context, name string, offset, length int) (LogTail, error) {
	return c.tailLog(ctx, "supervisor.tailProcessStderrLog", name, offset, length)
}

func (c *Client) tailLog(ctx context.Context, method, name string, offset, length int) (LogTail, error) {
	var reply []any
	if err := c.Call(ctx, method, &reply, name, offset, length); err != nil {
		return LogTail{}, err
	}
	if len(reply) != 3 {
		return LogTail{}, fmt.Errorf("%s %q: got %d values, want [string, int, bool]", method, name, len(reply))
	}
	// kolo/xmlrpc decodes an empty <string> inside []any as nil.
	bytes, ok1 := reply[0].(string)
	if reply[0] == nil {
		ok1 = true
	}
	offs, ok2 := reply[1].(int64)
	overflow, ok3 := reply[2].(bool)
	if !ok1 || !ok2 || !ok3 {
		return LogTail{}, fmt.Errorf("%s %q: got [%T, %T, %T], want [string, int, bool]", method, name, reply[0], reply[1], reply[2])
	}
	return LogTail{Bytes: bytes, Offset: offs, Overflow: overflow}, nil
}

// GetState returns supervisord's own state.
func (c *Client) GetState(ctx context.Context) (State, error) {
	var s State
	err := c.Call(ctx, "supervisor.getState", &s)
	return s, err
}

// GetPID returns supervisord's PID.
func (c *Client) GetPID(ctx context.Context) (int, error) {
	var pid int
	err := c.Call(ctx, "supervisor.getPID", &pid)
	return pid, err
}

// GetIdentification returns the identifier= of [supervisord] ("supervisor"
// by default), which is also the server: token of every event header.
func (c *Client) GetIdentification(ctx context.Context) (string, error) {
	var id string
	err := c.Call(ctx, "supervisor.getIdentification", &id)
	return id, err
}

// GetSupervisorVersion returns supervisord's version, e.g. "4.2.5".
func (c *Client) GetSupervisorVersion(ctx context.Context) (string, error) {
	var v string
	err := c.Call(ctx, "supervisor.getSupervisorVersion", &v)
	return v, err
}

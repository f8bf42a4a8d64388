package rpcclient

// ProcessState is a supervisord process state code.
type ProcessState int

// Process states (supervisor states.ProcessStates).
const (
	StateStopped  ProcessState = 0
	StateStarting ProcessState = 10
	StateRunning  ProcessState = 20
	StateBackoff  ProcessState = 30
	StateStopping ProcessState = 40
	StateExited   ProcessState = 100
	StateFatal    ProcessState = 200
	StateUnknown  ProcessState = 1000
)

// String returns the state name, e.g. "RUNNING"; codes supervisord does not
// define read "UNKNOWN".
func (s ProcessState) String() string {
	switch s {
	case StateStopped:
		return "STOPPED"
	case StateStarting:
		return "STARTING"
	case StateRunning:
		return "RUNNING"
	case StateBackoff:
		return "BACKOFF"
	case StateStopping:
		return "STOPPING"
	case StateExited:
		return "EXITED"
	case StateFatal:
		return "FATAL"
	}
	return "UNKNOWN"
}

// ProcessInfo is supervisord's process info struct (getProcessInfo,
// getAllProcessInfo). Times are unix seconds, 0 when not applicable;
// ExitStatus is -1 when the process was killed by a signal.
type ProcessInfo struct {
	Name          string       `xmlrpc:"name"`
	Group         string       `xmlrpc:"group"`
	Description   string       `xmlrpc:"description"`
	Start         int64        `xmlrpc:"start"`
	Stop          int64        `xmlrpc:"stop"`
	Now           int64        `xmlrpc:"now"`
	State         ProcessState `xmlrpc:"state"`
	StateName     string       `xmlrpc:"statename"`
	SpawnErr      string       `xmlrpc:"spawnerr"`
	ExitStatus    int          `xmlrpc:"exitstatus"`
	Logfile       string       `xmlrpc:"logfile"`
	StdoutLogfile string       `xmlrpc:"stdout_logfile"`
	StderrLogfile string       `xmlrpc:"stderr_logfile"`
	PID           int          `xmlrpc:"pid"`
}

// Namespec is name when group == name, else group:name.
func (p ProcessInfo) Namespec() string { return namespec(p.Group, p.Name) }

func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// State is supervisord's own state (getState): 1 RUNNING, 0 RESTARTING,
// -1 SHUTDOWN, 2 FATAL.
type State struct {
	Code int    `xmlrpc:"statecode"`
	Name string `xmlrpc:"statename"`
}

// LogTail is the answer of tailProcess*Log: the bytes read, the offset to
// ask for next (the log's current size), and whether more than the
// requested length was available.
type LogTail struct {
	Bytes    string
	Offset   int64
	Overflow bool
}

// ProcessResult is one entry of the array that group operations
// (StartProcessGroup, StopProcessGroup, and StartProcess etc. with a
// "group:*" spec) answer. Only the processes that needed the action are
// listed.
type ProcessResult struct {
	Name  string `xmlrpc:"name"`
	Group string `xmlrpc:"group"`
	// Status is FaultSuccess, or the fault that process met.
	Status FaultCode `xmlrpc:"status"`
	// Description is "OK", or the fault's text, e.g. "NOT_RUNNING: worker:worker_01".
	Description string `xmlrpc:"description"`
}

// Namespec is name when group == name, else group:name.
func (r ProcessResult) Namespec() string { return namespec(r.Group, r.Name) }

// Err returns nil when the process was handled, else its *Fault.
func (r ProcessResult) Err() error {
	if r.Status == FaultSuccess {
		return nil
	}
	return &Fault{Code: r.Status, String: r.Description}
}

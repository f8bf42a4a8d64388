package rpcclient

// ProcessState is a supervisord process state code.
type ProcessState int

// Process states (supervisor states.ProcessStates).
const (
	Stopped  ProcessState = 0
	Starting ProcessState = 10
	Running  ProcessState = 20
	Backoff  ProcessState = 30
	Stopping ProcessState = 40
	Exited   ProcessState = 100
	Fatal    ProcessState = 200
	Unknown  ProcessState = 1000
)

// String returns the state name, e.g. "RUNNING"; codes supervisord does not
// define read "UNKNOWN".
func (s ProcessState) String() string {
	switch s {
	case Stopped:
		return "STOPPED"
	case Starting:
		return "STARTING"
	case Running:
		return "RUNNING"
	case Backoff:
		return "BACKOFF"
	case Stopping:
		return "STOPPING"
	case Exited:
		return "EXITED"
	case Fatal:
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
func (p ProcessInfo) Namespec() string {
	if p.Group == p.Name {
		return p.Name
	}
	return p.Group + ":" + p.Name
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
// (startProcess "group:*", stopProcessGroup, ...) answer.
type ProcessResult struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Status      int    `xmlrpc:"status"`
	Description string `xmlrpc:"description"`
}

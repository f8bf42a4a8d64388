package rpcclient

import (
	"context"
	"net/http"
	"time"
)

// Fault codes of supervisor's xmlrpc.Faults.
const (
	UnknownMethod        = 1
	IncorrectParameters  = 2
	BadArguments         = 3
	SignatureUnsupported = 4
	ShutdownState        = 6
	BadName              = 10
	BadSignal            = 11
	NoFile               = 20
	NotExecutable        = 21
	Failed               = 30
	AbnormalTermination  = 40
	SpawnError           = 50
	AlreadyStarted       = 60
	NotRunning           = 70
	Success              = 80
	AlreadyAdded         = 90
	StillRunning         = 91
	CantReread           = 92
)

// Fault is an XML-RPC fault answered by supervisord.
type Fault struct {
	Code   int
	String string
}

// Error renders the fault as Python superlance shows it in its mails,
// e.g. <Fault 70: 'NOT_RUNNING: foo'>.
func (f *Fault) Error() string { panic("unimplemented") }

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

// String returns the state name, e.g. "RUNNING".
func (s ProcessState) String() string { panic("unimplemented") }

// ProcessInfo is supervisord's process info struct.
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
func (p ProcessInfo) Namespec() string { panic("unimplemented") }

// State is supervisord's own state (getState).
type State struct {
	Code int    `xmlrpc:"statecode"`
	Name string `xmlrpc:"statename"`
}

// LogTail is the answer of tailProcess*Log.
type LogTail struct {
	Bytes    string
	Offset   int64
	Overflow bool
}

// Client calls supervisord's XML-RPC API over one reused connection.
type Client struct{}

// Options configures New.
type Options struct {
	Username, Password string
	// HTTPClient replaces the default client (tests). Its transport must
	// reach the server; for unix:// URLs New builds one that dials the socket.
	HTTPClient *http.Client
	// DialTimeout bounds connecting; zero means 5 s.
	DialTimeout time.Duration
}

// New returns a client for serverURL: unix:///path/to.sock or http://host[:port].
func New(serverURL string, opts Options) (*Client, error) { panic("unimplemented") }

// FromEnv builds a client from a listener environment (os.Environ() form):
// SUPERVISOR_SERVER_URL, and SUPERVISOR_USERNAME/SUPERVISOR_PASSWORD when set.
func FromEnv(env []string) (*Client, error) { panic("unimplemented") }

// Call invokes method with args and decodes the answer into reply (may be nil).
// A supervisord fault is returned as a *Fault (use errors.As); HTTP errors,
// non-XML answers and decode failures are transport errors.
func (c *Client) Call(ctx context.Context, method string, reply any, args ...any) error {
	panic("unimplemented")
}

// Close releases the idle connection.
func (c *Client) Close() error { panic("unimplemented") }

func (c *Client) GetAllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	panic("unimplemented")
}
func (c *Client) GetProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	panic("unimplemented")
}
func (c *Client) StartProcess(ctx context.Context, name string, wait bool) error {
	panic("unimplemented")
}
func (c *Client) StopProcess(ctx context.Context, name string, wait bool) error {
	panic("unimplemented")
}
func (c *Client) SignalProcess(ctx context.Context, name, signal string) error {
	panic("unimplemented")
}
func (c *Client) ReadProcessStdoutLog(ctx context.Context, name string, offset, length int) (string, error) {
	panic("unimplemented")
}
func (c *Client) ReadProcessStderrLog(ctx context.Context, name string, offset, length int) (string, error) {
	panic("unimplemented")
}
func (c *Client) TailProcessStdoutLog(ctx context.Context, name string, offset, length int) (LogTail, error) {
	panic("unimplemented")
}
func (c *Client) TailProcessStderrLog(ctx context.Context, name string, offset, length int) (LogTail, error) {
	panic("unimplemented")
}
func (c *Client) GetState(ctx context.Context) (State, error)         { panic("unimplemented") }
func (c *Client) GetPID(ctx context.Context) (int, error)             { panic("unimplemented") }
func (c *Client) GetIdentification(ctx context.Context) (string, error) { panic("unimplemented") }

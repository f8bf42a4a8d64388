package eventproto

import (
	"context"
	"io"
	"log"
	"time"
)

// Event names that the tools and the serve loop refer to. supervisord only
// ever sends concrete names; unknown names are delivered unchanged.
const (
	ProcessStateStarting = "PROCESS_STATE_STARTING"
	ProcessStateRunning  = "PROCESS_STATE_RUNNING"
	ProcessStateBackoff  = "PROCESS_STATE_BACKOFF"
	ProcessStateStopping = "PROCESS_STATE_STOPPING"
	ProcessStateExited   = "PROCESS_STATE_EXITED"
	ProcessStateStopped  = "PROCESS_STATE_STOPPED"
	ProcessStateFatal    = "PROCESS_STATE_FATAL"
	ProcessStateUnknown  = "PROCESS_STATE_UNKNOWN"

	Tick5    = "TICK_5"
	Tick60   = "TICK_60"
	Tick3600 = "TICK_3600"
)

// Header is the parsed header line of one event.
type Header struct {
	Ver        string
	Server     string
	Serial     int64
	Pool       string
	PoolSerial int64
	EventName  string
	Len        int               // payload length in characters (code points)
	Tokens     map[string]string // every key:value token, known or not
}

// Event is one event as delivered by supervisord.
type Event struct {
	Header  Header
	Payload string // exactly Header.Len code points

	// Missed counts the events of this pool that supervisord dropped between
	// the previous event of the pool and this one (a poolserial gap, usually
	// a buffer overflow). Zero when nothing was lost.
	Missed int64
	// Repeat is true when this pool's poolserial was already delivered:
	// a redelivery after FAIL or a listener crash, or a cross-pool duplicate.
	Repeat bool
}

// Name returns the concrete event name, e.g. "PROCESS_STATE_EXITED".
func (e Event) Name() string { return e.Header.EventName }

// IsTick reports whether the event is one of the TICK_* family.
func (e Event) IsTick() bool { panic("unimplemented") }

// ProtocolError reports bytes on stdin that do not follow the protocol.
// Data holds the offending bytes, cut to a bounded length.
type ProtocolError struct {
	Msg  string
	Data []byte
}

func (e *ProtocolError) Error() string { panic("unimplemented") }

// Listener speaks the listener side of the protocol over r and w.
type Listener struct{}

// NewListener returns a Listener reading events from r and writing
// READY/RESULT to w.
func NewListener(r io.Reader, w io.Writer) *Listener { panic("unimplemented") }

// Next writes READY, then reads and returns one event. It returns io.EOF
// when stdin ends cleanly between events, and a *ProtocolError for a
// malformed header or a short payload.
func (l *Listener) Next() (Event, error) { panic("unimplemented") }

// OK acknowledges the current event (RESULT 2\nOK).
func (l *Listener) OK() error { panic("unimplemented") }

// Fail rejects the current event (RESULT 4\nFAIL); supervisord redelivers it.
func (l *Listener) Fail() error { panic("unimplemented") }

// ProcessState is the payload of every PROCESS_STATE_* event. Fields absent
// from a given event type are zero; HasPid/HasExpected/HasTries say which were present.
type ProcessState struct {
	ProcessName string
	GroupName   string
	FromState   string
	Expected    bool
	Pid         int
	Tries       int

	HasExpected, HasPid, HasTries bool
}

// Namespec is name when group == name, else group:name (supervisor's make_namespec).
func (p ProcessState) Namespec() string { panic("unimplemented") }

// ParseProcessState parses a PROCESS_STATE_* payload.
func ParseProcessState(payload string) (ProcessState, error) { panic("unimplemented") }

// Tick is the payload of TICK_* events.
type Tick struct{ When time.Time }

// ParseTick parses a TICK_* payload ("when:<unix seconds>").
func ParseTick(payload string) (Tick, error) { panic("unimplemented") }

// TickPeriod returns the period of a TICK_<seconds> event name.
func TickPeriod(eventName string) (time.Duration, error) { panic("unimplemented") }

// ProcessLog is the payload of PROCESS_LOG_STDOUT/_STDERR.
type ProcessLog struct {
	ProcessName, GroupName string
	Pid                    int
	Channel                string
	Data                   string
}

// ParseProcessLog parses a PROCESS_LOG_* payload.
func ParseProcessLog(payload string) (ProcessLog, error) { panic("unimplemented") }

// ProcessCommunication is the payload of PROCESS_COMMUNICATION_STDOUT/_STDERR.
type ProcessCommunication struct {
	ProcessName, GroupName string
	Pid                    int
	Data                   string
}

// ParseProcessCommunication parses a PROCESS_COMMUNICATION_* payload.
func ParseProcessCommunication(payload string) (ProcessCommunication, error) {
	panic("unimplemented")
}

// RemoteCommunication is the payload of REMOTE_COMMUNICATION.
type RemoteCommunication struct{ Type, Data string }

// ParseRemoteCommunication parses a REMOTE_COMMUNICATION payload.
func ParseRemoteCommunication(payload string) (RemoteCommunication, error) {
	panic("unimplemented")
}

// ProcessGroup is the payload of PROCESS_GROUP_ADDED/_REMOVED.
type ProcessGroup struct{ GroupName string }

// ParseProcessGroup parses a PROCESS_GROUP_* payload.
func ParseProcessGroup(payload string) (ProcessGroup, error) { panic("unimplemented") }

// Handler decides what to do with one event. It must return quickly: slow
// work (network, restarts, mail) goes to a Worker or a notify.Queue. The
// serve loop acknowledges the event with OK when the handler returns.
type Handler func(ctx context.Context, ev Event)

// ServeOptions configures Serve.
type ServeOptions struct {
	// Log receives protocol diagnostics (poolserial gaps, repeats). Nil discards.
	Log *log.Logger
	// Grace bounds the drain after reading stops (stdin EOF or ctx done).
	// Zero means DefaultGrace.
	Grace time.Duration
	// Drain, if set, runs after reading stops, with a context that expires
	// after Grace: finish in-flight work, flush queued mail.
	Drain func(ctx context.Context) error
}

// DefaultGrace is shorter than supervisord's default stopwaitsecs (10 s), so a
// listener drains and exits before supervisord resorts to SIGKILL.
const DefaultGrace = 8 * time.Second

// Serve runs the event loop: Next, handler, OK, until stdin EOF or ctx is
// done, then drains within the grace period. It returns nil on a clean stop
// and an error for a protocol error or a failed write to stdout.
func Serve(ctx context.Context, l *Listener, h Handler, opts ServeOptions) error {
	panic("unimplemented")
}

// Worker runs slow jobs off the event loop and remembers them for the drain.
type Worker struct{}

// NewWorker returns a Worker whose jobs get contexts derived from ctx.
func NewWorker(ctx context.Context) *Worker { panic("unimplemented") }

// TryGo starts fn unless a job started by TryGo is still running, in which
// case it returns false and does nothing: TICK-driven work is coalesced.
func (w *Worker) TryGo(fn func(ctx context.Context)) bool { panic("unimplemented") }

// Go always starts fn in its own goroutine (tracked for Wait).
func (w *Worker) Go(fn func(ctx context.Context)) { panic("unimplemented") }

// Wait waits for every job to finish, or cancels their context and returns
// ctx.Err() when ctx is done first.
func (w *Worker) Wait(ctx context.Context) error { panic("unimplemented") }

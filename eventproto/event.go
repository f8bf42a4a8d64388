package eventproto

import (
	"strconv"
	"strings"
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

// The other concrete event names supervisord 4.2.5 sends.
const (
	ProcessLogStdout              = "PROCESS_LOG_STDOUT"
	ProcessLogStderr              = "PROCESS_LOG_STDERR"
	ProcessCommunicationStdout    = "PROCESS_COMMUNICATION_STDOUT"
	ProcessCommunicationStderr    = "PROCESS_COMMUNICATION_STDERR"
	RemoteCommunicationEvent      = "REMOTE_COMMUNICATION"
	SupervisorStateChangeRunning  = "SUPERVISOR_STATE_CHANGE_RUNNING"
	SupervisorStateChangeStopping = "SUPERVISOR_STATE_CHANGE_STOPPING"
	ProcessGroupAdded             = "PROCESS_GROUP_ADDED"
	ProcessGroupRemoved           = "PROCESS_GROUP_REMOVED"
)

// Header is the parsed header line of one event.
type Header struct {
	Ver        string
	Server     string
	Serial     int64
	Pool       string
	PoolSerial int64
	EventName  string
	Len        int    // payload length in characters (code points)
	Line       string // the whole header line, without its newline
}

// Token returns the value of the header token key, known or not (a later
// protocol version may add some). Found by scanning Line, because building
// a map for every event would cost more than the rest of the parse, and
// listeners rarely ask.
func (h Header) Token(key string) (string, bool) {
	for rest := h.Line; rest != ""; {
		tok := rest
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			tok, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if k, v, ok := strings.Cut(tok, ":"); ok && k == key {
			return v, true
		}
	}
	return "", false
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
func (e Event) IsTick() bool { return strings.HasPrefix(e.Header.EventName, "TICK_") }

// ProtocolError reports bytes on stdin that do not follow the protocol.
// Data holds the offending bytes, cut to a bounded length.
type ProtocolError struct {
	Msg  string
	Data []byte
}

// Error returns the message with the offending bytes quoted, e.g.
// eventproto: malformed header: missing len: "ver:3.0 server:supervisor".
func (e *ProtocolError) Error() string {
	return "eventproto: " + e.Msg + ": " + strconv.Quote(string(e.Data))
}

// maxQuoted bounds ProtocolError.Data: enough to recognise what arrived,
// little enough for one log line.
const maxQuoted = 200

func protocolError(msg string, data []byte) *ProtocolError {
	if len(data) > maxQuoted {
		data = data[:maxQuoted]
	}
	// Copy: data usually points into the Listener's reused buffers.
	return &ProtocolError{Msg: msg, Data: append([]byte(nil), data...)}
}

package eventproto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
func (p ProcessState) Namespec() string {
	if p.GroupName == p.ProcessName {
		return p.ProcessName
	}
	return p.GroupName + ":" + p.ProcessName
}

// ParseProcessState parses a PROCESS_STATE_* payload:
//
//	processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:8802
//
// The keys after from_state depend on the event (tries for STARTING and
// BACKOFF, pid for RUNNING, STOPPING and STOPPED, expected and pid for
// EXITED, none for FATAL); they are matched by key, not position. Unknown
// keys are ignored. The payload has no trailing newline; one is tolerated.
func ParseProcessState(payload string) (ProcessState, error) {
	var p ProcessState
	var have struct{ name, group, from bool }
	err := eachToken(strings.TrimSuffix(payload, "\n"), func(k, v string) error {
		var err error
		switch k {
		case "processname":
			p.ProcessName, have.name = v, true
		case "groupname":
			p.GroupName, have.group = v, true
		case "from_state":
			p.FromState, have.from = v, true
		case "pid":
			p.Pid, err = parseInt(k, v)
			p.HasPid = true
		case "tries":
			p.Tries, err = parseInt(k, v)
			p.HasTries = true
		case "expected":
			var n int
			n, err = parseInt(k, v)
			// supervisord writes 0 or 1; Python superlance tests truthiness.
			p.Expected, p.HasExpected = n != 0, true
		}
		return err
	})
	switch {
	case err != nil:
	case !have.name:
		err = errors.New("missing processname")
	case !have.group:
		err = errors.New("missing groupname")
	case !have.from:
		err = errors.New("missing from_state")
	}
	if err != nil {
		return ProcessState{}, payloadError("PROCESS_STATE", payload, err)
	}
	return p, nil
}

// Tick is the payload of TICK_* events.
type Tick struct{ When time.Time }

// ParseTick parses a TICK_* payload ("when:<unix seconds>"). when is the
// period boundary the tick stands for, not the time it was sent: ticks
// queued behind a busy listener arrive late with their original when.
func ParseTick(payload string) (Tick, error) {
	var t Tick
	have := false
	err := eachToken(strings.TrimSuffix(payload, "\n"), func(k, v string) error {
		if k != "when" {
			return nil
		}
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid when %q", short(v))
		}
		t.When, have = time.Unix(sec, 0), true
		return nil
	})
	if err == nil && !have {
		err = errors.New("missing when")
	}
	if err != nil {
		return Tick{}, payloadError("TICK", payload, err)
	}
	return t, nil
}

// TickPeriod returns the period of a TICK_<seconds> event name, e.g. 60 s
// for "TICK_60".
func TickPeriod(eventName string) (time.Duration, error) {
	digits, ok := strings.CutPrefix(eventName, "TICK_")
	n, numeric := parseCount(digits)
	if !ok || !numeric || n == 0 || n > int64(1<<63-1)/int64(time.Second) {
		return 0, fmt.Errorf("eventproto: %q is not a TICK_<seconds> event name", short(eventName))
	}
	return time.Duration(n) * time.Second, nil
}

// ProcessLog is the payload of PROCESS_LOG_STDOUT/_STDERR.
type ProcessLog struct {
	ProcessName, GroupName string
	Pid                    int
	Channel                string
	Data                   string
}

// ParseProcessLog parses a PROCESS_LOG_* payload:
//
//	processname:web groupname:web pid:9719 channel:stdout\n<data>
//
// Data is one chunk as supervisord read it from the program's pipe: several
// lines, part of a line, or empty. Output that was not valid UTF-8 arrives
// as supervisord's replacement text "Undecodable: b'...'".
func ParseProcessLog(payload string) (ProcessLog, error) {
	h, data, err := parseProcessHead(payload, true)
	if err != nil {
		return ProcessLog{}, payloadError("PROCESS_LOG", payload, err)
	}
	return ProcessLog{ProcessName: h.name, GroupName: h.group, Pid: h.pid, Channel: h.channel, Data: data}, nil
}

// processHead is the first line of PROCESS_LOG and PROCESS_COMMUNICATION
// payloads.
type processHead struct {
	name, group, channel string
	pid                  int
}

// parseProcessHead splits payload into its first line, parsed as tokens
// (processname, groupname and pid always; channel when withChannel), and
// the data after it.
func parseProcessHead(payload string, withChannel bool) (processHead, string, error) {
	var h processHead
	var have struct{ name, group, pid, channel bool }
	head, data, err := splitHead(payload)
	if err != nil {
		return h, "", err
	}
	err = eachToken(head, func(k, v string) error {
		var err error
		switch k {
		case "processname":
			h.name, have.name = v, true
		case "groupname":
			h.group, have.group = v, true
		case "channel":
			h.channel, have.channel = v, true
		case "pid":
			h.pid, err = parseInt(k, v)
			have.pid = true
		}
		return err
	})
	switch {
	case err != nil:
	case !have.name:
		err = errors.New("missing processname")
	case !have.group:
		err = errors.New("missing groupname")
	case !have.pid:
		err = errors.New("missing pid")
	case withChannel && !have.channel:
		err = errors.New("missing channel")
	}
	return h, data, err
}

// ProcessCommunication is the payload of PROCESS_COMMUNICATION_STDOUT/_STDERR.
type ProcessCommunication struct {
	ProcessName, GroupName string
	Pid                    int
	Data                   string
}

// ParseProcessCommunication parses a PROCESS_COMMUNICATION_* payload:
//
//	processname:comm groupname:comm pid:10179\n<data>
//
// Data is what the program wrote between <!--XSUPERVISOR:BEGIN--> and
// <!--XSUPERVISOR:END-->, without the tags; it may span lines or be empty.
func ParseProcessCommunication(payload string) (ProcessCommunication, error) {
	h, data, err := parseProcessHead(payload, false)
	if err != nil {
		return ProcessCommunication{}, payloadError("PROCESS_COMMUNICATION", payload, err)
	}
	return ProcessCommunication{ProcessName: h.name, GroupName: h.group, Pid: h.pid, Data: data}, nil
}

// RemoteCommunication is the payload of REMOTE_COMMUNICATION.
type RemoteCommunication struct{ Type, Data string }

// ParseRemoteCommunication parses a REMOTE_COMMUNICATION payload:
//
//	type:<type>\n<data>
//
// type is whatever the caller of supervisor.sendRemoteCommEvent passed, so
// it is taken whole up to the newline, spaces and colons included.
func ParseRemoteCommunication(payload string) (RemoteCommunication, error) {
	head, data, err := splitHead(payload)
	if err == nil {
		var ok bool
		if head, ok = strings.CutPrefix(head, "type:"); !ok {
			err = errors.New("missing type")
		}
	}
	if err != nil {
		return RemoteCommunication{}, payloadError("REMOTE_COMMUNICATION", payload, err)
	}
	return RemoteCommunication{Type: head, Data: data}, nil
}

// ProcessGroup is the payload of PROCESS_GROUP_ADDED/_REMOVED.
type ProcessGroup struct{ GroupName string }

// ParseProcessGroup parses a PROCESS_GROUP_* payload ("groupname:<group>\n";
// unlike the other token sets it ends with a newline, counted in len).
func ParseProcessGroup(payload string) (ProcessGroup, error) {
	var g ProcessGroup
	have := false
	err := eachToken(strings.TrimSuffix(payload, "\n"), func(k, v string) error {
		if k == "groupname" {
			g.GroupName, have = v, true
		}
		return nil
	})
	if err == nil && !have {
		err = errors.New("missing groupname")
	}
	if err != nil {
		return ProcessGroup{}, payloadError("PROCESS_GROUP", payload, err)
	}
	return g, nil
}

// eachToken calls fn for every key:value token of a space-separated token
// set, in order, and stops at the first error. A token without ':' is an
// error; so is a newline inside the set, which would hide a second line.
func eachToken(set string, fn func(k, v string) error) error {
	if strings.ContainsAny(set, "\r\n") {
		return errors.New("unexpected line break in token set")
	}
	for rest := set; rest != ""; {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		if tok == "" {
			continue
		}
		k, v, ok := strings.Cut(tok, ":")
		if !ok {
			return fmt.Errorf("token %q without ':'", short(tok))
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// splitHead splits "token set\ndata" at its first newline.
func splitHead(payload string) (head, data string, err error) {
	head, data, ok := strings.Cut(payload, "\n")
	if !ok {
		return "", "", errors.New("missing newline after the header line")
	}
	return head, data, nil
}

func parseInt(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q", key, short(v))
	}
	return n, nil
}

// payloadError wraps a payload parse error with the family and the start
// of the payload, so a log line shows what arrived.
func payloadError(family, payload string, err error) error {
	if len(payload) > maxQuoted {
		payload = payload[:maxQuoted]
	}
	return fmt.Errorf("eventproto: parsing %s payload %q: %w", family, payload, err)
}

// short cuts a token quoted inside an error; the whole payload is quoted
// (bounded) by payloadError already.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

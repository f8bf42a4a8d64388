package rpcclient

import "fmt"

// FaultCode is a supervisord fault code (supervisor's xmlrpc.Faults). It is
// also the status of each entry of a group operation's answer, where
// FaultSuccess means that process was handled.
type FaultCode int

// Fault codes of supervisor's xmlrpc.Faults.
const (
	FaultUnknownMethod        FaultCode = 1
	FaultIncorrectParameters  FaultCode = 2
	FaultBadArguments         FaultCode = 3
	FaultSignatureUnsupported FaultCode = 4
	FaultShutdownState        FaultCode = 6
	FaultBadName              FaultCode = 10
	FaultBadSignal            FaultCode = 11
	FaultNoFile               FaultCode = 20
	FaultNotExecutable        FaultCode = 21
	FaultFailed               FaultCode = 30
	FaultAbnormalTermination  FaultCode = 40
	FaultSpawnError           FaultCode = 50
	FaultAlreadyStarted       FaultCode = 60
	FaultNotRunning           FaultCode = 70
	FaultSuccess              FaultCode = 80
	FaultAlreadyAdded         FaultCode = 90
	FaultStillRunning         FaultCode = 91
	FaultCantReread           FaultCode = 92
)

var faultNames = map[FaultCode]string{
	FaultUnknownMethod:        "UNKNOWN_METHOD",
	FaultIncorrectParameters:  "INCORRECT_PARAMETERS",
	FaultBadArguments:         "BAD_ARGUMENTS",
	FaultSignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	FaultShutdownState:        "SHUTDOWN_STATE",
	FaultBadName:              "BAD_NAME",
	FaultBadSignal:            "BAD_SIGNAL",
	FaultNoFile:               "NO_FILE",
	FaultNotExecutable:        "NOT_EXECUTABLE",
	FaultFailed:               "FAILED",
	FaultAbnormalTermination:  "ABNORMAL_TERMINATION",
	FaultSpawnError:           "SPAWN_ERROR",
	FaultAlreadyStarted:       "ALREADY_STARTED",
	FaultNotRunning:           "NOT_RUNNING",
	FaultSuccess:              "SUCCESS",
	FaultAlreadyAdded:         "ALREADY_ADDED",
	FaultStillRunning:         "STILL_RUNNING",
	FaultCantReread:           "CANT_REREAD",
}

// String returns supervisord's name of the code, e.g. "NOT_RUNNING", or
// "FaultCode(N)" for a code supervisord does not define.
func (c FaultCode) String() string {
	if name, ok := faultNames[c]; ok {
		return name
	}
	return fmt.Sprintf("FaultCode(%d)", int(c))
}

// Fault is an XML-RPC fault answered by supervisord. Methods return it
// wrapped with the call's context; use errors.As to get at it.
type Fault struct {
	Code FaultCode
	// String is supervisord's faultString: the fault name, optionally
	// followed by ": " and a detail, e.g. "NOT_RUNNING: web:app".
	String string
}

// Error returns "supervisor fault 70 NOT_RUNNING: web:app": the code, then
// supervisord's text.
func (f *Fault) Error() string {
	if f.String == "" {
		return fmt.Sprintf("supervisor fault %d", int(f.Code))
	}
	return fmt.Sprintf("supervisor fault %d %s", int(f.Code), f.String)
}

package alertctx

import (
	"fmt"
	"strconv"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/rpcclient"
)

// MaxTailLines bounds --log-tail; the byte cap applies as well.
const MaxTailLines = 1000

// TailLines is the value of --log-tail.
type TailLines int

// UnmarshalText parses a line count from 0 (off) to MaxTailLines.
func (n *TailLines) UnmarshalText(b []byte) error {
	v, err := strconv.Atoi(string(b))
	if err != nil || v < 0 || v > MaxTailLines {
		return fmt.Errorf("%q is not a number of lines from 0 to %d", b, MaxTailLines)
	}
	*n = TailLines(v)
	return nil
}

// Flags are the alert options every alerting tool takes, long-only so that
// they clash with no upstream short option. Embed with `embed:""`.
type Flags struct {
	Details bool      `name:"details" help:"Add what supervisord knows about the process to each alert: exit status (signal decoded), run time, spawn error, description, state now, host."`
	LogTail TailLines `name:"log-tail" placeholder:"N" help:"Add the last N lines of the program's stderr log (stdout when stderr is not logged separately) to each alert, at most 16 KiB."`
	Flood   Limit     `name:"flood" placeholder:"N/DURATION" help:"Send at most N alerts per program in any window of DURATION (e.g. 3/10m); the rest are counted and summed up in one alert when the window has passed."`
}

// Context reports whether any context is asked for.
func (f *Flags) Context() bool { return f.Details || f.LogTail > 0 }

// Sender returns the Sender the flags describe for a listener run with
// env. supervisord is asked (through SUPERVISOR_SERVER_URL) only when an
// option needs it; when no client can be made, that is logged and alerts
// go without context.
func (f *Flags) Sender(env []string, out func(alert.Alert), o SenderOptions) *Sender {
	var src Source
	if f.Context() || !f.Flood.Off() {
		c, err := rpcclient.FromEnv(env)
		if err != nil {
			if o.Log != nil {
				o.Log.Printf("alerts go without --details/--log-tail: %v", err)
			}
		} else {
			src = FromClient(c)
		}
	}
	return NewSender(*f, src, out, o)
}

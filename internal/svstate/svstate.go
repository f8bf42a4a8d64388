// Package svstate tells the tools that restart programs (httpok, memmon)
// whether supervisord can still start anything: during its own shutdown it
// refuses every call, and once it has exited it answers none.
package svstate

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/superlance-go/superlance/rpcclient"
)

// ShuttingDown reports whether err is supervisord's SHUTDOWN_STATE fault:
// supervisord is stopping everything (or restarting), so there is nothing
// to start a program into.
func ShuttingDown(err error) bool {
	var f *rpcclient.Fault
	return errors.As(err, &f) && f.Code == rpcclient.FaultShutdownState
}

// Down says why supervisord cannot restart anything, asked after a call
// whose answer was lost: probe is any cheap call (getAllProcessInfo). It
// returns "supervisord is shutting down" for SHUTDOWN_STATE, "supervisord
// does not answer (shut down?)" when the probe fails otherwise, and "" when
// supervisord answers. A wait=true stopProcess in flight when a shutdown
// begins is never answered: supervisord exits once every program stopped.
func Down(ctx context.Context, probe func(context.Context) error) string {
	err := probe(ctx)
	switch {
	case err == nil:
		return ""
	case ShuttingDown(err):
		return "supervisord is shutting down"
	default:
		return "supervisord does not answer (shut down?)"
	}
}

type stoppingKey struct{}

// WithStopping returns ctx carrying flag, which the event loop sets when
// supervisord announces its shutdown or restart
// (SUPERVISOR_STATE_CHANGE_STOPPING, for a listener subscribed to it).
func WithStopping(ctx context.Context, flag *atomic.Bool) context.Context {
	return context.WithValue(ctx, stoppingKey{}, flag)
}

// Stopping reports whether supervisord announced its shutdown to the
// listener whose work ctx belongs to: it then refuses to start anything,
// so a restart is not begun, or not completed.
func Stopping(ctx context.Context) bool {
	flag, _ := ctx.Value(stoppingKey{}).(*atomic.Bool)
	return flag != nil && flag.Load()
}

package alertctx

import (
	"context"
	"errors"
	"net/http"

	"github.com/superlance-go/superlance/rpcclient"
)

// Source is what the package asks supervisord: *rpcclient.Client through
// FromClient, or a stand-in in tests.
type Source interface {
	GetProcessInfo(ctx context.Context, namespec string) (rpcclient.ProcessInfo, error)
	TailProcessStderrLog(ctx context.Context, namespec string, offset, length int) (rpcclient.LogTail, error)
	TailProcessStdoutLog(ctx context.Context, namespec string, offset, length int) (rpcclient.LogTail, error)
	// ReadLog reads supervisord's own log as supervisor.readLog does
	// (offset < 0 with length 0: the last -offset bytes).
	ReadLog(ctx context.Context, offset, length int) (string, error)
}

// FromClient adapts an rpcclient.Client.
func FromClient(c *rpcclient.Client) Source { return clientSource{c} }

type clientSource struct{ *rpcclient.Client }

func (c clientSource) ReadLog(ctx context.Context, offset, length int) (string, error) {
	var s string
	err := c.Call(ctx, "supervisor.readLog", &s, offset, length)
	return s, err
}

// notUTF8 reports whether err is supervisord's answer to a log slice that
// is not valid UTF-8: HTTP 500, not a fault (supervisor-protocol.md B.5).
// A slice that starts inside a multi-byte character gets it too, which a
// start one byte later cures.
func notUTF8(err error) bool {
	var se *rpcclient.StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusInternalServerError
}

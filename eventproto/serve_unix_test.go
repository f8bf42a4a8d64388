//go:build unix

package eventproto

import (
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

func init() {
	// A pipe made outside the runtime is blocking and not on its poller,
	// like the stdin supervisord gives a listener: a read of it blocks in
	// read(2).
	pipeKinds = append(pipeKinds, struct {
		name string
		open func(t *testing.T) (io.Reader, io.WriteCloser)
	}{"blocking pipe", func(t *testing.T) (io.Reader, io.WriteCloser) {
		var fds [2]int
		if err := syscall.Pipe(fds[:]); err != nil {
			t.Fatal(err)
		}
		r, w := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "supervisord")
		if err := r.SetReadDeadline(time.Time{}); err == nil {
			t.Fatal("raw pipe is on the poller; want a blocking one like supervisord's")
		}
		t.Cleanup(func() { r.Close() })
		return r, w
	}})
}

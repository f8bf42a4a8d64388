//go:build unix

package eventproto

import (
	"os"
	"syscall"
	"time"
)

// pollable switches l to reading its input through the runtime's network
// poller, when the input is an *os.File on a pipe or socket, and returns
// the file to set read deadlines on and a function that undoes the switch.
//
// supervisord hands a listener a blocking pipe as stdin. A goroutine
// blocked in read(2) on it holds a thread and cannot be interrupted, which
// is why the fallback reads in a goroutine and hands every event over a
// channel, a cross-thread wakeup per event. On the poller a waiting read
// parks the goroutine instead, and a deadline in the past interrupts it.
//
// The poller needs O_NONBLOCK, a flag of the open pipe that every
// descriptor of it shares, so it is set only on pipes and sockets (never a
// terminal, which the shell reads too) and cleared again by the undo
// function. The read goes through a duplicate of the descriptor so that
// closing it leaves the caller's *os.File, os.Stdin say, untouched.
func (l *Listener) pollable() (*os.File, func(), bool) {
	f, ok := l.src.(*os.File)
	if !ok || l.r.Buffered() > 0 {
		return nil, nil, false
	}
	if f.SetReadDeadline(time.Time{}) == nil {
		// Already on the poller, like the ends of os.Pipe.
		return f, func() { f.SetReadDeadline(time.Time{}) }, true
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return nil, nil, false
	}
	fd, err := dupCloexec(f)
	if err != nil {
		return nil, nil, false
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, nil, false
	}
	// NewFile registers a non-blocking descriptor with the poller.
	pf := os.NewFile(uintptr(fd), f.Name())
	if pf.SetReadDeadline(time.Time{}) != nil {
		setBlocking(pf)
		pf.Close()
		return nil, nil, false
	}
	l.r.Reset(pf)
	return pf, func() {
		setBlocking(pf)
		pf.Close()
		l.r.Reset(l.src)
	}, true
}

// dupCloexec duplicates f's descriptor without leaking it into a child
// forked meanwhile. SyscallConn, unlike Fd, leaves f's mode alone.
func dupCloexec(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, dupErr := -1, error(nil)
	err = rc.Control(func(sfd uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		fd, dupErr = syscall.Dup(int(sfd))
		if dupErr == nil {
			syscall.CloseOnExec(fd)
		}
	})
	if err == nil {
		err = dupErr
	}
	return fd, err
}

// setBlocking clears O_NONBLOCK on the pipe behind f, so that the caller's
// own descriptor reads as before.
func setBlocking(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { syscall.SetNonblock(int(fd), false) })
	}
}

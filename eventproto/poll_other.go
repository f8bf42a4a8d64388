//go:build !unix

package eventproto

import "os"

// pollable: outside unix, Serve always reads in a goroutine.
func (l *Listener) pollable() (*os.File, func(), bool) { return nil, nil, false }

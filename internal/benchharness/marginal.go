package main

import (
	"fmt"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
)

// Marginal CPU per event: the CPU of a run of marginalLarge events minus
// that of a run of marginalSmall, over the difference, so that start-up,
// the runtime's first allocations and the exit are left out and what
// remains is what one more event costs. Median of marginalReps pairs,
// each pair run back to back so that both see the same machine.
const (
	marginalSmall = 5000
	marginalLarge = 45000
	marginalReps  = 3
)

type marginalResult struct {
	label    string
	perEvent time.Duration
	note     string
}

// measureMarginal returns the marginal CPU per ignored event of bin.
func measureMarginal(bin string, t tool, env []string) (time.Duration, error) {
	var per []time.Duration
	for i := 0; i < marginalReps; i++ {
		small, err := runEvents(bin, t, env, marginalSmall)
		if err != nil {
			return 0, err
		}
		large, err := runEvents(bin, t, env, marginalLarge)
		if err != nil {
			return 0, err
		}
		per = append(per, (large-small)/(marginalLarge-marginalSmall))
	}
	return median(per), nil
}

// runEvents starts bin, sends it n expected-exit events in lockstep and
// returns its total CPU.
func runEvents(bin string, t tool, env []string, n int) (time.Duration, error) {
	c, err := startChild(bin, t.args, env)
	if err != nil {
		return 0, err
	}
	if _, err := c.waitReady(10 * time.Second); err != nil {
		return 0, err
	}
	evs := make([][]byte, 1000)
	for i := 0; i < n; i++ {
		if i%len(evs) == 0 {
			for j := range evs {
				evs[j] = harness.Event(i+j+1, t.name, "PROCESS_STATE_EXITED", expectedExit(i+j))
			}
		}
		if _, err := c.proto.SendEvent(evs[i%len(evs)]); err != nil {
			c.cmd.Process.Kill()
			return 0, fmt.Errorf("event %d: %w (stderr: %s)", i+1, err, c.drainLog())
		}
	}
	return c.stop()
}

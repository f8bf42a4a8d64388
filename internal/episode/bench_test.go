package episode

import (
	"fmt"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// BenchmarkObserve is the event loop's share of one PROCESS_STATE event:
// a program of 200 going down or coming back.
func BenchmarkObserve(b *testing.B) {
	c := &clock{t: t0}
	tr := New(Config{Timeout: time.Hour, Now: c.now})
	changes := make([]Change, 200)
	for i := range changes {
		changes[i] = Change{Group: "g", Name: fmt.Sprintf("p%03d", i)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ch := changes[i%len(changes)]
		ch.State = rpcclient.StateExited
		if (i/len(changes))%2 == 1 {
			ch.State = rpcclient.StateRunning
		}
		tr.Observe(ch)
	}
}

// BenchmarkReconcileAndDue200 is one tick's work after getAllProcessInfo
// answered for 200 processes, a quarter of them down.
func BenchmarkReconcileAndDue200(b *testing.B) {
	c := &clock{t: t0}
	tr := New(Config{Timeout: time.Hour, Now: c.now})
	infos := make([]rpcclient.ProcessInfo, 200)
	for i := range infos {
		s := rpcclient.StateRunning
		if i%4 == 0 {
			s = rpcclient.StateFatal
		}
		infos[i] = info(fmt.Sprintf("g:p%03d", i), s, 1000, 1010, 2000)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.advance(time.Second)
		tr.Reconcile(infos, c.now())
		tr.Due()
	}
}

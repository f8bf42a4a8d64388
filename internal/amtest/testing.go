package amtest

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/superlance-go/superlance/internal/freeport"
)

// Need returns the Alertmanager binary's path. When it is missing the test
// is skipped, except under CI=true, where it fails: `make test` installs it
// (scripts/need-alertmanager), and integration tests must run there.
func Need(t testing.TB) string {
	t.Helper()
	p, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err.Error() + "; integration tests must run in CI")
		}
		t.Skip(err.Error())
	}
	return p
}

// NewReceiverT is NewReceiver, closed in t.Cleanup.
func NewReceiverT(t testing.TB) *Receiver {
	t.Helper()
	r, err := NewReceiver(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Start runs one Alertmanager without clustering, stopped in t.Cleanup
// (its log shown when the test failed).
func Start(t testing.TB, cfg Config) *Instance {
	t.Helper()
	return launchT(t, Options{Bin: Need(t), Dir: t.TempDir(), Config: cfg})
}

// StartPair runs two Alertmanagers that gossip with each other.
func StartPair(t testing.TB, cfg Config) [2]*Instance {
	t.Helper()
	bin := Need(t)
	var gossip [2]string
	for i := range gossip {
		p, err := freeport.Loopback()
		if err != nil {
			t.Fatal(err)
		}
		gossip[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	var pair [2]*Instance
	for i := range pair {
		pair[i] = launchT(t, Options{Bin: bin, Dir: t.TempDir(), Config: cfg, Cluster: gossip[i], Peers: []string{gossip[1-i]}})
	}
	return pair
}

func launchT(t testing.TB, o Options) *Instance {
	t.Helper()
	in, err := Launch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Stop()
		if t.Failed() {
			t.Logf("alertmanager %s log:\n%s", in.URL, in.Log())
		}
	})
	return in
}

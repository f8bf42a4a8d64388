// Package amtest runs a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager) on loopback ports, alone or as a clustered
// pair, with a route to a webhook receiver, and reads back what it holds.
//
// Launch, Instance and Receiver need no testing.TB (the demo uses them);
// Need, Start, StartPair and NewReceiverT are the test helpers on top.
//
// A single instance runs with --cluster.listen-address= (no gossip: the
// default would bind 0.0.0.0:9094). A pair gossips over two loopback
// ports. Alertmanager does not gossip alerts, only silences and what was
// notified, which is why a client posts every alert to every instance.
package amtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/internal/freeport"
)

// Binaries are the names Alertmanager is installed under: Debian's
// package, then upstream's release.
var Binaries = []string{"prometheus-alertmanager", "alertmanager"}

// Find returns the path of the Alertmanager binary.
func Find() (string, error) {
	for _, name := range Binaries {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("prometheus-alertmanager not found in PATH (Debian: apt-get install -y prometheus-alertmanager)")
}

// Config is what the generated alertmanager.yml says.
type Config struct {
	// Receiver is the webhook URL every notification goes to.
	Receiver string
	// GroupBy is the route's group_by; nil means alertname and program.
	GroupBy []string
	// GroupWait and GroupInterval are short by default (1s) so that tests
	// and the demo see notifications quickly.
	GroupWait, GroupInterval time.Duration
}

// YAML renders the configuration file.
func (c Config) YAML() string {
	groupBy := c.GroupBy
	if groupBy == nil {
		groupBy = []string{"alertname", "program"}
	}
	quoted := make([]string, len(groupBy))
	for i, g := range groupBy {
		quoted[i] = strconv.Quote(g)
	}
	wait, interval := c.GroupWait, c.GroupInterval
	if wait <= 0 {
		wait = time.Second
	}
	if interval <= 0 {
		interval = time.Second
	}
	return fmt.Sprintf(`route:
  receiver: test
  group_by: [%s]
  group_wait: %s
  group_interval: %s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s
        send_resolved: true
`, strings.Join(quoted, ", "), wait, interval, strconv.Quote(c.Receiver))
}

// Instance is one running Alertmanager.
type Instance struct {
	URL     string // http://127.0.0.1:PORT
	Cluster string // its gossip address, "" when clustering is off
	Dir     string // config, storage and its log (alertmanager.log)
	cmd     *exec.Cmd
	done    chan struct{}
}

// Options for Launch.
type Options struct {
	Bin    string // the binary; "" means Find()
	Dir    string // a directory of its own
	Config Config
	// Cluster is the gossip address to listen on ("127.0.0.1:PORT"), ""
	// for a single instance without gossip; Peers are the others.
	Cluster string
	Peers   []string
}

// Launch starts Alertmanager and waits until it is ready.
func Launch(ctx context.Context, o Options) (*Instance, error) {
	bin := o.Bin
	if bin == "" {
		var err error
		if bin, err = Find(); err != nil {
			return nil, err
		}
	}
	port, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(o.Dir, "alertmanager.yml")
	if err := os.WriteFile(conf, []byte(o.Config.YAML()), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(o.Dir, "alertmanager.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"--config.file=" + conf,
		"--storage.path=" + filepath.Join(o.Dir, "data"),
		"--web.listen-address=" + addr,
		"--cluster.listen-address=" + o.Cluster,
	}
	if o.Cluster != "" {
		args = append(args, "--cluster.advertise-address="+o.Cluster,
			"--cluster.settle-timeout=2s", "--cluster.peer-timeout=1s",
			"--cluster.gossip-interval=50ms", "--cluster.pushpull-interval=1s")
		for _, p := range o.Peers {
			args = append(args, "--cluster.peer="+p)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = o.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	in := &Instance{URL: "http://" + addr, Cluster: o.Cluster, Dir: o.Dir, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(in.done) }()
	if err := in.waitReady(ctx); err != nil {
		in.Stop()
		return nil, fmt.Errorf("%w; its log:\n%s", err, in.Log())
	}
	return in, nil
}

func (in *Instance) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.URL+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-in.done:
			return errors.New("alertmanager exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("alertmanager not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Log returns what Alertmanager logged so far.
func (in *Instance) Log() string {
	b, _ := os.ReadFile(filepath.Join(in.Dir, "alertmanager.log"))
	return string(b)
}

// Stop terminates Alertmanager (SIGTERM, SIGKILL after 10 s) and waits.
func (in *Instance) Stop() {
	select {
	case <-in.done:
		return
	default:
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		in.cmd.Process.Kill()
		<-in.done
	}
}

// Alert is one alert as GET /api/v2/alerts shows it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"` // active, suppressed, unprocessed
	} `json:"status"`
}

// Alerts returns the alerts the instance holds that have not ended
// (Alertmanager's API leaves resolved alerts out).
func (in *Instance) Alerts(ctx context.Context) ([]Alert, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.URL+"/api/v2/alerts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v2/alerts: %s: %s", resp.Status, body)
	}
	var out []Alert
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /api/v2/alerts: %w", err)
	}
	return out, nil
}

// Match returns the alerts whose labels include all of match.
func Match(alerts []Alert, match map[string]string) []Alert {
	var out []Alert
	for _, a := range alerts {
		if hasLabels(a.Labels, match) {
			out = append(out, a)
		}
	}
	return out
}

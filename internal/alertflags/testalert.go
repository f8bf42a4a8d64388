package alertflags

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/superlance-go/superlance/alert"
)

// testTimeout bounds a test alert: every transport has its own network
// deadlines, and this is the longest the command waits for all of them.
const testTimeout = 60 * time.Second

// TestAlert is the alert --test-alert sends: marked as a test in its kind,
// its subject and its first words, so that nobody mistakes it for a
// failure and an Alertmanager route can drop it.
func TestAlert(tool string) alert.Alert {
	host := alert.Hostname()
	return alert.Alert{
		Tool:    tool,
		Host:    host,
		Kind:    alert.Test,
		Subject: fmt.Sprintf("TEST ALERT from %s on %s", tool, host),
		Text: fmt.Sprintf("TEST ALERT: %s --test-alert on %s sent this to prove that its alerts arrive. "+
			"Nothing has happened to any program.", tool, host),
	}
}

// SendTest sends TestAlert(tool) through mail (nil when the tool mails
// nobody) and every channel configured, each on its own, and returns the
// exit code: 0 when every one delivered it, 1 when one did not or when
// nothing is configured. Each transport logs why it failed; SendTest logs
// one line per channel with the outcome.
func (c *Channels) SendTest(ctx context.Context, tool string, mail alert.Transport, logger *log.Logger) int {
	ts, err := c.Transports(logger)
	if err != nil {
		logger.Printf("test alert: %v", err)
		return 1
	}
	if mail != nil {
		ts = append([]alert.Transport{mail}, ts...)
	}
	if len(ts) == 0 {
		logger.Print("test alert: no channel configured (no mail recipient, no --webhook, no --alertmanager): nothing to test")
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	failed := make([]string, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		a := TestAlert(tool)
		a.Time = time.Now()
		if err := t.Post(&a); err != nil {
			failed[i] = err.Error()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lost := t.Close(ctx)
			if f, ok := t.(alert.Failer); ok {
				lost += f.Failed()
			}
			if lost > 0 && failed[i] == "" {
				failed[i] = "not delivered (the log above says why)"
			}
		}()
	}
	wg.Wait()
	code := 0
	for i, t := range ts {
		if failed[i] != "" {
			logger.Printf("test alert via %s: FAILED: %s", t, failed[i])
			code = 1
			continue
		}
		logger.Printf("test alert via %s: delivered", t)
	}
	return code
}

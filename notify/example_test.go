package notify_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/superlance-go/superlance/notify"
)

// A process name from an event cannot smuggle headers into a mail: a CR or
// LF anywhere in a header is an error, and nothing is rendered.
func ExampleMessage_Bytes() {
	name := "web\r\nBcc: everyone@example.com"
	m := &notify.Message{
		To:      []string{"ops@example.com"},
		Subject: "crashmail alert for " + name,
		Body:    "Process " + name + " exited unexpectedly",
	}
	raw, err := m.Bytes()
	fmt.Println(raw == nil)
	fmt.Println(err)
	// Output:
	// true
	// Subject "crashmail alert for web\r\nBcc: everyone@example.com" contains CR or LF
}

// A Queue delivers in the background; Close waits for pending mail until
// its context ends.
func ExampleNewQueue() {
	q := notify.NewQueue(
		&notify.Sendmail{Command: "cat >/dev/null"}, // -s "/usr/sbin/sendmail -t -i" in production
		notify.QueueOptions{Log: log.New(os.Stdout, "crashmail: ", 0)},
	)
	err := q.Enqueue(&notify.Message{
		To:      []string{"ops@example.com"},
		Subject: "crashmail alert for web",
		Body:    "Process web in group web exited unexpectedly (pid 4711) from state RUNNING",
	})
	if err != nil {
		fmt.Println(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	undelivered := q.Close(ctx)
	fmt.Println(len(undelivered), "undelivered")
	// Output:
	// crashmail: delivered mail "crashmail alert for web" to ops@example.com via sendmail "cat >/dev/null"
	// 0 undelivered
}

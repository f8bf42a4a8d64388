package amtest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Notification is what Alertmanager's webhook receiver gets.
type Notification struct {
	Status      string            `json:"status"` // firing or resolved
	Receiver    string            `json:"receiver"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

// Receiver is a webhook receiver for Alertmanager's notifications.
type Receiver struct {
	URL    string
	srv    *http.Server
	ln     net.Listener
	notify func(Notification) // called for each, may be nil

	mu  sync.Mutex
	got []Notification
}

// NewReceiver serves on a loopback port until Close. onNote, when not nil,
// is called with each notification as it arrives.
func NewReceiver(onNote func(Notification)) (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + ln.Addr().String() + "/", ln: ln, notify: onNote}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var n Notification
	if err != nil || json.Unmarshal(body, &n) != nil {
		http.Error(w, "not a notification", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, n)
	r.mu.Unlock()
	if r.notify != nil {
		r.notify(n)
	}
}

// Notifications returns what arrived so far, in order.
func (r *Receiver) Notifications() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notification(nil), r.got...)
}

// Close stops serving.
func (r *Receiver) Close() error { return r.srv.Close() }

// Seen reports whether a notification has come with an alert of status
// ("firing" or "resolved") whose labels include all of match.
func (r *Receiver) Seen(status string, match map[string]string) bool {
	for _, n := range r.Notifications() {
		for _, a := range n.Alerts {
			if a.Status == status && hasLabels(a.Labels, match) {
				return true
			}
		}
	}
	return false
}

func hasLabels(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

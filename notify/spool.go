package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// spoolExt names the files of queued mail in a spool directory.
const spoolExt = ".mail.json"

// Spool is a directory that holds queued mail across restarts: each mail
// is one file, written atomically (a temporary file, synced, renamed, the
// directory synced), so that a crash or a power cut leaves either the
// whole mail or none. One process at a time uses a spool: OpenSpool locks
// it.
type Spool struct {
	dir  string
	lock *os.File

	mu  sync.Mutex
	seq int
}

// Spooled is a mail read back from a spool.
type Spooled struct {
	Message *Message
	File    string
}

// OpenSpool opens dir as a spool, creating it (mode 0700: mail may be
// private) when missing, and locks it; it fails when another process holds
// the lock.
func OpenSpool(dir string) (*Spool, error) {
	if dir == "" {
		return nil, errors.New("spool: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("spool %s is in use by another process: give each listener its own", dir)
		}
		return nil, fmt.Errorf("spool %s: lock: %w", dir, err)
	}
	// A test write shows a directory the process cannot write into now,
	// not at the first mail.
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Spool{dir: dir, lock: f}, nil
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Close releases the lock; the files stay.
func (s *Spool) Close() error { return s.lock.Close() }

// spooledMessage is the file format: the Message's fields, as JSON.
type spooledMessage struct {
	Queued     time.Time   `json:"queued"`
	To         []string    `json:"to"`
	From       string      `json:"from,omitempty"`
	Subject    string      `json:"subject,omitempty"`
	Body       string      `json:"body"`
	Header     []Field     `json:"header,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
}

// Write stores m as a new file and returns its name. Files sort in the
// order they were written.
func (s *Spool) Write(m *Message) (string, error) {
	data, err := json.Marshal(spooledMessage{Queued: time.Now(), To: m.To, From: m.From, Subject: m.Subject, Body: m.Body, Header: m.Header, Attachment: m.Attachment})
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%020d-%06d%s", time.Now().UnixNano(), s.seq, spoolExt)
	s.mu.Unlock()
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; removes a partial file
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	file := filepath.Join(s.dir, name)
	if err := os.Rename(tmp.Name(), file); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := s.syncDir(); err != nil {
		return file, fmt.Errorf("spool: %w", err)
	}
	return file, nil
}

// Remove deletes a delivered mail's file.
func (s *Spool) Remove(file string) error {
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return s.syncDir()
}

func (s *Spool) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Load reads the mail in the spool, oldest first. A file that does not
// hold a valid message is renamed to end in ".bad", and reported in the
// error, so that it is neither lost nor read again.
func (s *Spool) Load() ([]Spooled, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), spoolExt) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []Spooled
	var errs []error
	for _, n := range names {
		file := filepath.Join(s.dir, n)
		m, err := readSpooled(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w (renamed to %s.bad)", n, err, n))
			os.Rename(file, file+".bad")
			continue
		}
		out = append(out, Spooled{Message: m, File: file})
	}
	return out, errors.Join(errs...)
}

func readSpooled(file string) (*Message, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var sm spooledMessage
	if err := json.Unmarshal(data, &sm); err != nil {
		return nil, err
	}
	m := &Message{To: sm.To, From: sm.From, Subject: sm.Subject, Body: sm.Body, Header: sm.Header, Attachment: sm.Attachment}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

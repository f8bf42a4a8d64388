package main

import (
	"log"

	"github.com/superlance-go/superlance/internal/episode"
)

// saver writes the open episodes to the --state file in its own
// goroutine, so that neither the event loop nor a check waits on the disk.
// Kicks that arrive while a write is in progress fold into one more write.
type saver struct {
	store   episode.Store
	tracker *episode.Tracker
	log     *log.Logger

	kicks   chan struct{}
	stop    chan struct{}
	done    chan struct{}
	written uint64 // generation of the last successful write
	lastErr string // the last error logged, so that a full disk logs once
}

func newSaver(store episode.Store, tr *episode.Tracker, logger *log.Logger) *saver {
	_, gen := tr.Records()
	s := &saver{
		store: store, tracker: tr, log: logger, written: gen,
		kicks: make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go s.run()
	return s
}

// kick asks for a write if the episodes changed; it never blocks. A nil
// saver (no --state) does nothing.
func (s *saver) kick() {
	if s == nil {
		return
	}
	select {
	case s.kicks <- struct{}{}:
	default:
	}
}

// close writes what changed last and stops the goroutine.
func (s *saver) close() {
	if s == nil {
		return
	}
	close(s.stop)
	<-s.done
}

func (s *saver) run() {
	defer close(s.done)
	for {
		select {
		case <-s.kicks:
			s.save()
		case <-s.stop:
			s.save()
			return
		}
	}
}

func (s *saver) save() {
	recs, gen := s.tracker.Records()
	if gen == s.written {
		return
	}
	if err := s.store.Save(recs); err != nil {
		if err.Error() != s.lastErr {
			s.lastErr = err.Error()
			s.log.Printf("%v; retrying at the next change", err)
		}
		return
	}
	if s.lastErr != "" {
		s.log.Printf("state file %s written again", s.store.Path)
		s.lastErr = ""
	}
	s.written = gen
}

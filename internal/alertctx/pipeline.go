package alertctx

import (
	"context"
	"errors"
	"sync"
)

// maxWaiting bounds the alerts waiting for context; beyond it an alert is
// handed over at once without context rather than queued behind others.
const maxWaiting = 256

// maxFetches bounds the fetches supervisord sees at the same time.
const maxFetches = 4

// errBusy is the reason of an alert handed over without context because
// too many were waiting.
var errBusy = errors.New("too many alerts waiting for context; sent without it")

// Pipeline fetches the context of alerts off the event loop: Go returns at
// once, fetches run concurrently (a few at a time, each within the
// fetcher's timeout) and the results are handed to their deliver functions
// in the order Go was called, from one goroutine. So alerts keep their
// order and none waits longer than the timeout.
type Pipeline struct {
	f      *Fetcher
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	waiting []*job
	wake    chan struct{}
	closed  bool
	done    chan struct{}
}

type job struct {
	ready   chan struct{}
	res     []Context
	deliver func([]Context)
}

// NewPipeline starts a pipeline fetching with f.
func NewPipeline(f *Fetcher) *Pipeline {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{
		f:      f,
		sem:    make(chan struct{}, maxFetches),
		ctx:    ctx,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	go p.run()
	return p
}

// Go fetches req and then calls deliver with the result. It never blocks.
// After Close, deliver is called at once, without context.
func (p *Pipeline) Go(req Request, deliver func(Context)) {
	p.GoAll([]Request{req}, func(cs []Context) { deliver(cs[0]) })
}

// GoAll is Go for an alert about several processes: their contexts are
// fetched at the same time, within one deadline, and handed over
// together, in the order of reqs.
func (p *Pipeline) GoAll(reqs []Request, deliver func([]Context)) {
	j := &job{ready: make(chan struct{}), deliver: deliver}
	failed := func(err error) []Context {
		out := make([]Context, len(reqs))
		for i, r := range reqs {
			out[i] = Context{Request: r, timeout: p.f.o.Timeout, DetailsErr: err, TailErr: err}
		}
		return out
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		deliver(failed(context.Canceled))
		return
	}
	busy := len(p.waiting) >= maxWaiting
	p.waiting = append(p.waiting, j)
	p.mu.Unlock()
	if busy {
		j.res = failed(errBusy)
		close(j.ready)
	} else {
		go func() {
			// The deadline runs from now, also while waiting for a turn.
			ctx, cancel := context.WithTimeout(p.ctx, p.f.o.Timeout)
			defer cancel()
			j.res = make([]Context, len(reqs))
			var wg sync.WaitGroup
			for i, req := range reqs {
				wg.Go(func() {
					select {
					case p.sem <- struct{}{}:
						j.res[i] = p.f.Fetch(ctx, req)
						<-p.sem
					case <-ctx.Done():
						j.res[i] = Context{Request: req, timeout: p.f.o.Timeout, DetailsErr: ctx.Err(), TailErr: ctx.Err()}
					}
				})
			}
			wg.Wait()
			close(j.ready)
		}()
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run hands results over in order.
func (p *Pipeline) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		if len(p.waiting) == 0 {
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			<-p.wake
			continue
		}
		j := p.waiting[0]
		p.mu.Unlock()
		<-j.ready
		j.deliver(j.res)
		p.mu.Lock()
		p.waiting = p.waiting[1:]
		p.mu.Unlock()
	}
}

// Close waits until every alert taken by Go has been delivered. When ctx
// ends first, fetches still running are cut short and their alerts are
// delivered without context. Go after Close delivers at once.
func (p *Pipeline) Close(ctx context.Context) {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		<-p.done
	}
	p.cancel()
}

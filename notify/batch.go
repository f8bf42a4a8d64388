package notify

import (
	"context"
	"log"
)

// BatchOptions configures a Batch.
type BatchOptions struct {
	// Interval in minutes: a flush happens when the summed tick minutes reach it.
	Interval float64
	// MaxLines bounds the kept lines; 0 means 10000. When over, the oldest
	// lines are dropped and the drop is counted in the log and the next mail.
	MaxLines  int
	Transport Transport
	// Template gives To, From, Subject and extra headers; Body is the batch.
	Template Message
	Log      *log.Logger
}

// Batch collects alert lines and sends them as one message per interval
// (superlance's ProcessStateEmailMonitor). A batch that fails to send is kept
// and merged with the next one.
type Batch struct{}

// NewBatch returns an empty batch.
func NewBatch(o BatchOptions) *Batch { panic("unimplemented") }

// Add appends one line. It never blocks on the network.
func (b *Batch) Add(line string) { panic("unimplemented") }

// Tick adds minutes to the accumulator; when it reaches the interval the
// batch is flushed in the background and the accumulator resets.
func (b *Batch) Tick(minutes float64) { panic("unimplemented") }

// Close waits for a flush in flight, then sends what is still pending, within ctx.
func (b *Batch) Close(ctx context.Context) error { panic("unimplemented") }

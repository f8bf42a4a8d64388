package notify

import "context"

// Transport delivers one message. Send honours ctx's deadline.
type Transport interface {
	Send(ctx context.Context, m *Message) error
	// String names the transport for log lines (never includes a password).
	String() string
}

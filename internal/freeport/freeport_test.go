package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestLoopback(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		p, err := Loopback()
		if err != nil {
			t.Fatal(err)
		}
		if p < 1024 || p >= low {
			t.Fatalf("port %d, want one in 1024-%d (below the ephemeral range)", p, low-1)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}

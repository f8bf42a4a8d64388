// Package freeport picks a loopback TCP port for a server that another
// process will open later (a supervisord program told its port on its
// command line).
//
// Asking the kernel for port 0 and closing the socket again is racy under
// load: the port comes from the ephemeral range, and any outgoing
// connection may take it as its source port before the program binds it.
// The ports here come from below that range, where the kernel never hands
// out ports by itself.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Loopback returns a port on 127.0.0.1 that was free a moment ago and lies
// outside the kernel's ephemeral port range.
func Loopback() (int, error) {
	lo, hi := 20000, ephemeralLow()
	if hi-lo < 1000 {
		lo = 1024
	}
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue // taken: try another
		}
		l.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no free loopback port in %d-%d", lo, hi-1)
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	const linuxDefault = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return linuxDefault
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= 1024 {
		return linuxDefault
	}
	return low
}

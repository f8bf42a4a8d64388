// Command floor is the cheapest event listener possible: one goroutine,
// READY, read the header and the payload, RESULT 2 OK, nothing else (no
// parsing beyond len, no signals, no logging). The bench harness runs it
// next to the six tools to show what the pipes and the kernel cost by
// themselves on the machine at hand.
package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
)

func main() {
	r := bufio.NewReader(os.Stdin)
	w := os.Stdout
	buf := make([]byte, 0, 4096)
	for {
		if _, err := w.Write([]byte("READY\n")); err != nil {
			os.Exit(1)
		}
		line, err := r.ReadSlice('\n')
		if err != nil {
			os.Exit(0) // EOF: supervisord is gone
		}
		i := bytes.Index(line, []byte("len:"))
		if i < 0 {
			os.Exit(1)
		}
		// The payloads the harness sends are ASCII, so characters are bytes.
		n, err := strconv.Atoi(string(bytes.TrimSpace(line[i+4:])))
		if err != nil || n < 0 || n > 1<<20 {
			os.Exit(1)
		}
		if n > cap(buf) {
			buf = make([]byte, 0, n)
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			os.Exit(1)
		}
		if _, err := w.Write([]byte("RESULT 2\nOK")); err != nil {
			os.Exit(1)
		}
	}
}

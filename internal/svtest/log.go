package svtest

import "github.com/superlance-go/superlance/internal/cli"

// Untimed returns a tool's log as its tests read it: without the
// timestamp that starts every line and without the version line every tool
// logs at start (cli's own tests check both), so that a test can match
// the words of a line from its beginning.
func Untimed(log string) string {
	return cli.Untimed(log)
}

package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/alecthomas/kong"
)

// Set at build time by the Makefile (-ldflags -X) from git describe and git
// rev-parse; empty in a plain go build or go install, where the module's
// build info takes their place.
var (
	stampedVersion string
	stampedCommit  string
)

// BuildInfo is what --version prints and what every tool logs at start.
type BuildInfo struct {
	Version string // git describe, the module version, or "devel"
	Commit  string // the commit built, or "unknown"
	Go      string // the Go release that built the binary
}

// Build returns the version, commit and Go release of this binary: the
// values stamped by the Makefile when present, else those the go command
// records in every binary (the module version for go install ...@v1.2.3,
// the VCS revision for a build inside a checkout).
func Build() BuildInfo {
	b := BuildInfo{Version: stampedVersion, Commit: stampedCommit, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		if b.Commit == "" {
			var modified bool
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if b.Commit != "" && modified {
				b.Commit += "+dirty"
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// String is the one-line form: "v0.1.0 (commit 0fee7df..., go1.26.0)".
func (b BuildInfo) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", b.Version, b.Commit, b.Go)
}

// versionFlag is --version, added to every command by Parse.
type versionFlag bool

// BeforeReset prints the version before kong checks required flags, so
// that "crashmailbatch --version" works without -t and -f.
func (versionFlag) BeforeReset(app *kong.Kong) error {
	b := Build()
	fmt.Fprintf(app.Stdout, "%s %s\ncommit %s\nbuilt with %s\n", app.Model.Name, b.Version, b.Commit, b.Go)
	app.Exit(0)
	return nil
}

// common are the flags Parse adds to every command's grammar.
type common struct {
	Version versionFlag `name:"version" help:"Print the version, the commit and the Go release it was built with, then exit."`
	Man     manFlag     `name:"help-man" hidden:"" help:"Print the manual page (roff) and exit."`
}

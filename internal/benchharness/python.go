package main

import (
	"os"
	"os/exec"
	"path/filepath"
)

// pythonListener is what Python superlance's crashmailbatch does with an
// event, without superlance itself (not packaged here): supervisor's own
// childutils reads the event and answers, the payload of an EXITED event
// is parsed, and an expected exit is ignored. Measured in the same run as
// the Go tools, it gives the ratio on this machine at this moment, which
// the design's fixed Python figures cannot. The one change: stdin EOF ends
// the loop with status 0 (childutils dies of a KeyError there), because
// the harness checks a clean exit.
const pythonListener = `import sys
from supervisor import childutils

while True:
    try:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    except KeyError:
        sys.exit(0)
    if headers['eventname'] == 'PROCESS_STATE_EXITED':
        pheaders, pdata = childutils.eventdata(payload + '\n')
        if not int(pheaders['expected']):
            sys.stderr.write('unexpected exit\n')
    childutils.listener.ok(sys.stdout)
`

// pythonTool returns the interpreter and the reference listener written
// into dir, or ok=false when no python3 can import supervisor.childutils
// (Debian's supervisor package brings both).
func pythonTool(dir string) (interpreter string, t tool, ok bool) {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err != nil || exec.Command(path, "-c", "import supervisor.childutils").Run() != nil {
			continue
		}
		script := filepath.Join(dir, "childutils_listener.py")
		if os.WriteFile(script, []byte(pythonListener), 0o644) != nil {
			return "", tool{}, false
		}
		return path, tool{"python", []string{script}, "supervisor.childutils: payload parsed, expected:1 ignored"}, true
	}
	return "", tool{}, false
}

// superlanceTool returns Python superlance's crashmailbatch when it is
// installed (pip install superlance; Debian does not package it).
func superlanceTool() (string, bool) {
	path, err := exec.LookPath("crashmailbatch")
	if err != nil {
		return "", false
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 2 || string(b[:2]) != "#!" {
		return "", false // ours, or not a script
	}
	return path, true
}

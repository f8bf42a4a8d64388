// Package svtest is the test harness of the integration tests: a real
// supervisord 4.x in a temporary directory, the tools and a helper program
// built from this tree, and a real SMTP server (mail.go).
//
// A typical test:
//
//	func TestCrash(t *testing.T) {
//		svtest.Need(t)
//		t.Parallel()
//		prog := svtest.TestProg(t)
//		s := svtest.Start(t, svtest.Config{
//			Programs: []svtest.Program{{
//				Name:    "crasher",
//				Command: prog + " crash -after 1500ms -code 3",
//				Extra:   []string{"autorestart=false"},
//			}},
//			Listeners: []svtest.Listener{{
//				Name:    "crashmail",
//				Command: svtest.BuildTool(t, "crashmail") + " -a -m x@example.com",
//				Events:  "PROCESS_STATE_EXITED",
//			}},
//		})
//		s.WaitState(t, "crasher", rpcclient.StateExited, 10*time.Second)
//		...
//	}
//
// supervisord listens on a unix socket with Basic auth; listeners get
// SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD through environment=, as an
// operator would configure them. Everything (config, socket, pid file,
// supervisord's log, one <process>.out/<process>.err per process) lives in
// Supervisor.Dir. Start stops supervisord in t.Cleanup and makes sure no
// process it started is left.
//
// Need skips a test when supervisord is not installed, except when the
// environment has CI=true: there the test fails, because integration tests
// must not silently disappear from CI.
//
// # Re-recording the golden event streams
//
// testdata/supervisor/events/ holds byte-exact streams captured from
// supervisord (see its README). TestRecordStream in this package records a
// fresh stream from the installed supervisord with the helper program's
// `record` listener and checks that its structure still matches the golden
// startup.txt. To write the fresh streams somewhere, run
//
//	SVTEST_RECORD=/some/dir go test ./internal/svtest -run TestRecordStream
//
// and compare or copy the files it writes (one per scenario, named like the
// golden files). Record and StartRecording do the same for other scenarios.
package svtest

// Package svtest is the test harness of the integration tests: a real
// supervisord 4.x in a temporary directory, the tools and the programs
// that misbehave on purpose, and a real SMTP server. The parts themselves
// live in package harness, whose helpers return errors (the demo and the
// bench harness use them too); svtest wraps them for tests: they fail the
// test on error and clean up in t.Cleanup.
//
// A tool's test binary is also the tool: its TestMain calls ToolMain, and
// Tool returns a link to the test binary under the tool's name, which runs
// the tool's main when started. TestProg is the misbehave binary, built
// once per `go test` run.
//
// A typical test:
//
//	func TestMain(m *testing.M) {
//		svtest.ToolMain("crashmail", main)
//		os.Exit(svtest.RunTests(m))
//	}
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
//				Command: svtest.Tool(t, "crashmail") + " -a -m x@example.com",
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
// Tests wait with Eventually (or WaitFor), never with fixed sleeps, and
// assert order and outcome, never how long something took.
//
// Need skips a test when supervisord is not installed, except when the
// environment has CI=true: there the test fails, because integration tests
// must not silently disappear from CI.
//
// # Re-recording the golden event streams
//
// testdata/supervisor/events/ holds byte-exact streams captured from
// supervisord (see its README). TestRecordStream in this package records a
// fresh stream from the installed supervisord with misbehave's
// `record` listener and checks that its structure still matches the golden
// startup.txt. To write the fresh streams somewhere, run
//
//	SVTEST_RECORD=/some/dir go test ./internal/svtest -run TestRecordStream
//
// and compare or copy the files it writes (one per scenario, named like the
// golden files). Record and StartRecording do the same for other scenarios.
package svtest

package main

import (
	"flag"
	"os"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestMain lets the tests run this test binary as httpok under supervisord
// (svtest.Tool), instead of building the tool. And it lets the supervisord
// tests run all at once: each spends its time waiting for TICK_5 events,
// not on the CPU, so the default parallelism of GOMAXPROCS (2 on a small CI
// machine) would only make them queue up. An explicit -parallel still wins.
func TestMain(m *testing.M) {
	svtest.ToolMain("httpok", main)
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "16")
	}
	os.Exit(svtest.RunTests(m))
}

package main

import (
	"os"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestMain lets the tests run this test binary as procmon under supervisord
// (svtest.Tool), instead of building the tool.
func TestMain(m *testing.M) {
	svtest.ToolMain("procmon", main)
	os.Exit(svtest.RunTests(m))
}

package config

import (
	"os"
	"testing"
)

// SpecExampleFile is SPEC §3's example config, verbatim: the one copy the
// tests read. internal/cli and internal/engine read it as
// ../config/testdata/spec-example.yml; TestREADMEShowsTheSpecExample keeps
// the README's copy in step with it.
//
// It is exported from a _test.go file (the export_test.go idiom), so that
// only this package's tests and config_test see it.
const SpecExampleFile = "testdata/spec-example.yml"

// SpecExample is the text of SpecExampleFile.
func SpecExample(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(SpecExampleFile)
	if err != nil {
		t.Fatalf("read the SPEC §3 example: %v", err)
	}
	return string(data)
}

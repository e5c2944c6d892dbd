package action

import (
	"os"
	"path/filepath"
	"testing"
)

// The plan and report files go under .broom/ in the workspace, and the
// outputs name them relative to it: RUNNER_TEMP, a host path a Docker
// action cannot see, plays no part.
func TestFilesGoToTheWorkspace(t *testing.T) {
	t.Parallel()
	d := newDriverRun(t, "schedule", nil, driverConfig)
	d.env["GITHUB_WORKSPACE"] = t.TempDir()
	d.env["RUNNER_TEMP"] = filepath.Join(t.TempDir(), "not-mounted")
	code, out := d.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, d.logs.String())
	}
	for k, want := range map[string]string{"plan-file": ".broom/broom-plan-nightly.json", "report-file": ".broom/broom-report-nightly.md"} {
		if out[k] != want {
			t.Errorf("output %s = %q, want %q", k, out[k], want)
		}
		if _, err := os.Stat(filepath.Join(d.env["GITHUB_WORKSPACE"], want)); err != nil {
			t.Errorf("output %s: %v", k, err)
		}
	}
	if _, err := os.Stat(d.env["RUNNER_TEMP"]); !os.IsNotExist(err) {
		t.Errorf("RUNNER_TEMP was written: %v", err)
	}
}

// A name that is not a plain file name (an id from a refused config) is
// not written anywhere.
func TestWriteInRefusesPaths(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ws", ".broom")
	for _, name := range []string{"../escape.json", "a/b.json", "..", ""} {
		if err := writeIn(dir, name, []byte("x")); err == nil {
			t.Errorf("writeIn(%q) wrote a file", name)
		}
	}
	if err := writeIn(dir, "broom-plan-ok.json", []byte("x")); err != nil {
		t.Errorf("writeIn of a file name: %v", err)
	}
}

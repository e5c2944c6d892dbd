package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/pr/prtest"
)

// In a Docker action RUNNER_TEMP names a folder of the host that is not
// mounted in the container (actions/runner#1984); only the workspace is
// shared with later steps. The plan and report files go there, under
// .broom/, and the outputs name them relative to it, so that a step such
// as actions/upload-artifact (which resolves paths in the workspace)
// finds them.
func TestFilesAreInTheWorkspaceForLaterSteps(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	notMounted := filepath.Join(t.TempDir(), "runner", "_temp") // does not exist

	r := w.runEnv("schedule", prtest.Payload(t, "schedule", ""), nil, "RUNNER_TEMP="+notMounted)
	r.want(t, 0, map[string]string{"result": "planned", "planned": "2",
		"plan-file": ".broom/broom-plan-nightly.json", "report-file": ".broom/broom-report-nightly.md"})
	var pf struct {
		Fingerprint string
		Actions     []struct{ ID string }
	}
	if err := json.Unmarshal(r.file(t, "plan-file"), &pf); err != nil {
		t.Fatalf("plan file: %v", err)
	}
	if pf.Fingerprint != r.outputs["fingerprint"] || len(pf.Actions) != 2 {
		t.Errorf("plan file: fingerprint %s with %d actions, want %s with 2", pf.Fingerprint, len(pf.Actions), r.outputs["fingerprint"])
	}
	report := string(r.file(t, "report-file"))
	for _, id := range old {
		if !strings.Contains(report, id) {
			t.Errorf("report file does not list %s:\n%s", id, report)
		}
	}
	if _, err := os.Stat(notMounted); !os.IsNotExist(err) {
		t.Errorf("broom wrote to RUNNER_TEMP %s (stat: %v)", notMounted, err)
	}

	// `broom action` run by hand, without GITHUB_WORKSPACE: the files go
	// to .broom/ in the current directory, and the outputs say so.
	if err := os.RemoveAll(filepath.Join(w.dir, ".broom")); err != nil {
		t.Fatal(err)
	}
	r = w.runEnv("schedule", prtest.Payload(t, "schedule", ""), nil, "GITHUB_WORKSPACE=", "RUNNER_TEMP="+notMounted)
	r.want(t, 0, map[string]string{"plan-file": ".broom/broom-plan-nightly.json"})
	if !strings.Contains(string(r.file(t, "plan-file")), old[0]) {
		t.Errorf("plan file in the current directory does not list %s", old[0])
	}
}

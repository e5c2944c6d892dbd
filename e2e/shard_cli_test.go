package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/shard"
)

// The command line's sharded plan through the built binary and the real
// connection (organization discovery, assumed roles): three shards, each
// written to a file, merge into the plan one process makes, and each
// shard applies its slice of the merged plan.
func TestCLIShardsMergeToThePlan(t *testing.T) {
	w, members, snaps, prod := orgWorld(t)
	w.writeConfig(orgConfig(prod, ""))
	fingerprint := func(out string) string {
		var p struct{ Fingerprint string }
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("not a JSON plan: %v\n%s", err, out)
		}
		return p.Fingerprint
	}
	single := w.cli("plan", "--format", "json")
	if single.code != 0 {
		t.Fatalf("plan: exit %d\n%s", single.code, single.stderr)
	}
	var files []string
	for k := 1; k <= 3; k++ {
		name := fmt.Sprintf("shard-%d.json", k)
		if r := w.cli("plan", "--shard", fmt.Sprintf("%d/3", k), "--out", name); r.code != 0 {
			t.Fatalf("plan --shard %d/3: exit %d\n%s", k, r.code, r.stderr)
		}
		files = append(files, name)
	}
	merged := w.cli(append([]string{"merge", "--format", "json", "--out", "merged.json"}, files...)...)
	if merged.code != 0 || fingerprint(merged.stdout) != fingerprint(single.stdout) {
		t.Fatalf("merge: exit %d, fingerprint %s; want 0 and the single plan's %s\n%s", merged.code, fingerprint(merged.stdout), fingerprint(single.stdout), merged.stderr)
	}
	text := w.cli(append([]string{"merge"}, files...)...)
	heading, _, _ := strings.Cut(text.stdout, "\n")
	if want := "broom plan · nightly · 2 accounts: " + members[0] + ", " + members[1] + " · 1 region"; heading != want {
		t.Errorf("merge heading %q, want %q", heading, want)
	}
	if r := w.cli("merge", files[0], files[2]); r.code != 2 || r.stderr != "broom: shard 2/3 is missing\n" {
		t.Errorf("merge without shard 2/3: exit %d, stderr %q", r.code, r.stderr)
	}

	for k := 1; k <= 3; k++ {
		r := w.cli("apply", "--shard", fmt.Sprintf("%d/3", k), "--approved", "merged.json", "--out", fmt.Sprintf("applied-%d.json", k))
		if r.code != 0 {
			t.Fatalf("apply --shard %d/3: exit %d\n%s", k, r.code, r.stderr)
		}
	}
	for _, id := range members {
		var gone bool
		for k := 1; k <= 3; k++ {
			b, err := os.ReadFile(filepath.Join(w.dir, fmt.Sprintf("applied-%d.json", k)))
			if err != nil {
				t.Fatal(err)
			}
			var f shard.File
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			for _, a := range f.Actions {
				gone = gone || a.ID == snaps[id] && a.Status == "done"
			}
		}
		if !gone {
			t.Errorf("no apply shard deleted %s of account %s", snaps[id], id)
		}
	}
	var after struct{ Actions []json.RawMessage }
	if r := w.cli("plan", "--format", "json"); json.Unmarshal([]byte(r.stdout), &after) != nil || len(after.Actions) != 0 {
		t.Errorf("the plan after the shards applied: exit %d, %d actions; want none\n%s", r.code, len(after.Actions), r.stdout)
	}
}

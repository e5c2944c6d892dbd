package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
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

// A list of accounts with plan-role, in shards through the built binary:
// each plan shard assumes the plan-role of an account that has one (and
// the role of one that has none), session broom-plan; each apply shard
// assumes role, session broom-apply. Both shards share the config's digest.
func TestCLIShardsAssumePlanRoleToPlan(t *testing.T) {
	w, members, snaps, _ := orgWorld(t)
	role := func(id, name string) string { return "arn:aws:iam::" + id + ":role/" + name }
	w.writeConfig(strings.Replace(defaultConfig, "\nregions: [us-east-1]\n", "\nregions: [us-east-1]\naccounts:\n"+
		"  - {id: \""+members[0]+"\", role: \""+role(members[0], "broom")+"\", plan-role: \""+role(members[0], "broom-read")+"\"}\n"+
		"  - {id: \""+members[1]+"\", role: \""+role(members[1], "broom")+"\"}\n", 1))
	assumed := func(what string, want ...awstest.AssumedRole) {
		t.Helper()
		got := w.rec.AssumedRoles()
		cmp := func(a, b awstest.AssumedRole) int {
			return strings.Compare(a.RoleArn+" "+a.SessionName, b.RoleArn+" "+b.SessionName)
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		if !slices.Equal(got, want) {
			t.Errorf("%s assumed %v, want %v", what, got, want)
		}
		w.rec.Reset()
	}
	toPlan := []awstest.AssumedRole{{RoleArn: role(members[0], "broom-read"), SessionName: "broom-plan"}, {RoleArn: role(members[1], "broom"), SessionName: "broom-plan"}}
	toApply := []awstest.AssumedRole{{RoleArn: role(members[0], "broom"), SessionName: "broom-apply"}, {RoleArn: role(members[1], "broom"), SessionName: "broom-apply"}}

	w.rec.Reset()
	var files []string
	for k := 1; k <= 2; k++ {
		name := fmt.Sprintf("shard-%d.json", k)
		if r := w.cli("plan", "--shard", fmt.Sprintf("%d/2", k), "--out", name); r.code != 0 {
			t.Fatalf("plan --shard %d/2: exit %d\n%s", k, r.code, r.stderr)
		}
		assumed(fmt.Sprintf("plan --shard %d/2", k), toPlan...)
		files = append(files, name)
	}
	if r := w.cli(append([]string{"merge", "--out", "merged.json"}, files...)...); r.code != 0 || !strings.Contains(r.stdout, "Plan: 2 to delete") {
		t.Fatalf("merge: exit %d, want 0 and 2 to delete\n%s%s", r.code, r.stdout, r.stderr)
	}
	for k := 1; k <= 2; k++ {
		// The apply shard's config digest is the plan shards': it would
		// refuse the approved plan otherwise (exit 2).
		if r := w.cli("apply", "--shard", fmt.Sprintf("%d/2", k), "--approved", "merged.json", "--out", fmt.Sprintf("applied-%d.json", k)); r.code != 0 {
			t.Fatalf("apply --shard %d/2: exit %d\n%s", k, r.code, r.stderr)
		}
		assumed(fmt.Sprintf("apply --shard %d/2", k), toApply...)
	}
	for _, id := range members {
		in := cloud.AssumeRole(w.aws, role(id, "broom"), "check")
		if _, ok := awstest.Snapshots(t, in)[snaps[id]]; ok {
			t.Errorf("%s of %s still exists after the apply shards", snaps[id], id)
		}
	}
}

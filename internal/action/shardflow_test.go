package action

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
	"github.com/broom-dev/broom/internal/shard"
)

// shardAccounts in their two regions fill each of 4 shards (shard.Of of
// ACCOUNT/REGION): 3, 2, 2 and 1 targets.
var shardAccounts = []string{"100000000001", "100000000002", "100000000003", "100000000004"}

// orgCloud is four accounts with two old snapshots in each of two
// regions: 8 targets, 16 actions.
func orgCloud() *fakeAWS {
	cloud := newFakeAWS(shardAccounts...)
	for _, a := range shardAccounts {
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			cloud.add(a, r, "snap-"+a[9:]+"-"+r+"-1", "snap-"+a[9:]+"-"+r+"-2")
		}
	}
	return cloud
}

// shardFileOf reads shard k's file from dir/K/.
func (w *shardWorld) shardFileOf(dir string, k int) shard.File {
	w.t.Helper()
	var f shard.File
	data, err := os.ReadFile(filepath.Join(w.dir, dir, fmt.Sprint(k), "broom-plan-nightly.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	decode(w.t, data, &f)
	return f
}

// The whole sharded lifecycle on one pull request: 4 plan shards, the
// merge (the fingerprint one job gives), the gate, 4 apply shards and the
// results, which show every action done and approve nothing more.
func TestShardedLifecycle(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, shardConfig)
	cloud := orgCloud()

	single := w.run(w.payload("opened"), map[string]string{"comment": "false"}, cloud.connect)
	if single.code != ExitOK || single.out["planned"] != "16" {
		t.Fatalf("single job: exit %d, outputs %v", single.code, single.out)
	}
	requests := len(w.gh.Requests())
	plans := w.planShards(cloud, w.payload("opened"), 4)
	covered := 0
	for k, j := range plans {
		f := w.shardFileOf("shards", k+1)
		if j.code != ExitOK || f.Phase != "plan" || f.Shard.Index != k+1 || f.Shard.Count != 4 || f.Shard.Total != 8 {
			t.Errorf("plan shard %d/4: exit %d, file phase %q shard %+v", k+1, j.code, f.Phase, f.Shard)
		}
		if !j.says(fmt.Sprintf("This is shard %d/4: %d of the run's 8 targets", k+1, len(f.Shard.Targets))) {
			t.Errorf("plan shard %d/4: the summary does not name its slice:\n%s", k+1, j.stdout)
		}
		if j.out["planned"] != fmt.Sprint(len(f.Actions)) || j.out["fingerprint"] != plan.Fingerprint(f.Actions) {
			t.Errorf("plan shard %d/4: outputs %v, file has %d actions", k+1, j.out, len(f.Actions))
		}
		covered += len(f.Shard.Targets)
	}
	if covered != 8 {
		t.Errorf("the shards covered %d targets, want 8", covered)
	}
	// The single job and the plan shards only plan: plan-role (run.go).
	if want := map[Access]int{PlanOnly: 5}; !maps.Equal(cloud.access, want) {
		t.Errorf("the plan jobs connected with access %v, want %v", cloud.access, want)
	}
	if n := len(w.gh.Requests()); n != requests {
		t.Errorf("the plan shards made %d GitHub requests; want none", n-requests)
	}

	merge := w.run(w.payload("opened"), map[string]string{"merge": "shards/*/*.json"}, nil)
	if merge.code != ExitOK || merge.out["fingerprint"] != single.out["fingerprint"] || merge.out["planned"] != "16" {
		t.Fatalf("merge job: exit %d, outputs %v; want 0 and the single job's fingerprint %s", merge.code, merge.out, single.out["fingerprint"])
	}
	body := w.sticky().Body
	m, _ := pr.ParseMarker(body)
	s, ok := pr.ParseShards(body)
	if m.Fingerprint != single.out["fingerprint"] || !ok || s.Count != 4 || s.Actions() != 16 {
		t.Errorf("comment marker %+v, shards %+v (%v): want the single fingerprint and 4 slices of 16 actions", m, s, ok)
	}
	if lines := strings.SplitN(body, "\n", 3); len(lines) < 2 || !strings.HasPrefix(lines[1], "<!-- broom:shards ") {
		t.Errorf("the shards line is not right after the marker:\n%s", body)
	}
	var merged shard.PlanFile
	decode(t, w.file(merge, "plan-file"), &merged)
	if merged.Fingerprint != m.Fingerprint || !sameShards(merged.Shards, s) {
		t.Errorf("merged plan-file: fingerprint %s, shards %+v; want the comment's", merged.Fingerprint, merged.Shards)
	}

	approval := w.approved()
	shown := w.sticky().Body
	for k, j := range w.applyShards(cloud, approval, 4) {
		f := w.shardFileOf("results", k+1)
		if j.code != ExitOK || f.Phase != "apply" || f.Approved != s.Slices[k].Fingerprint || f.Drift || f.Error != "" {
			t.Errorf("apply shard %d/4: exit %d, file phase %q approved %.12s drift %v error %q", k+1, j.code, f.Phase, f.Approved, f.Drift, f.Error)
		}
	}
	if len(cloud.snaps) != 0 {
		t.Errorf("snapshots left after apply: %v", cloud.snaps)
	}
	if want := map[Access]int{PlanOnly: 5, MayChange: 4}; !maps.Equal(cloud.access, want) {
		t.Errorf("after the apply shards, connects by access %v, want %v", cloud.access, want)
	}
	if w.sticky().Body != shown || !hasLabel(w.gh) {
		t.Errorf("an apply shard changed the comment or removed the label")
	}

	res := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil) // nil: no AWS
	if res.code != ExitOK || res.out["result"] != "applied" || res.out["applied"] != "16" {
		t.Errorf("results job: exit %d, outputs %v; want 0, applied, 16", res.code, res.out)
	}
	after := w.sticky().Body
	m, _ = pr.ParseMarker(after)
	s, ok = pr.ParseShards(after)
	if m.Fingerprint != plan.Fingerprint(nil) || !ok || s.Actions() != 0 {
		t.Errorf("after the results: marker %+v, shards %+v; want nothing left to approve", m, s)
	}
	if !strings.Contains(after, "4 accounts: 100000000001, 100000000002, 100000000003, 100000000004 · 2 regions") {
		t.Errorf("the results comment does not name the accounts and regions:\n%s", after)
	}
	if !strings.Contains(after, "Applied: 16 done, 0 already done, 0 failed, 0 skipped") {
		t.Errorf("the comment does not show 16 actions done:\n%s", after)
	}
	if hasLabel(w.gh) {
		t.Errorf("the results job left the approve label on")
	}

	// Approving again after a complete apply approves nothing.
	again := w.run(w.labeled("alice"), map[string]string{"mode": "gate"}, nil)
	if again.code != ExitOK || !again.says("0 actions in 4 shards") {
		t.Errorf("gate after a complete apply: exit %d; want 0 and an empty approval:\n%s", again.code, again.stdout)
	}
}

// A merge job on synchronize removes an approve label added for older
// commits, as a single job does, and says so in the comment.
func TestMergeOnSynchronizeRemovesTheStaleLabel(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, shardConfig)
	cloud := orgCloud()
	w.gh.AddLabel(shardPR, "alice", approveLabel)
	p := w.payload("synchronize")
	prtest.Set(p, "pull_request.labels", []any{map[string]any{"name": approveLabel}})
	w.planShards(cloud, p, 4)
	j := w.run(p, map[string]string{"merge": "shards/*/*.json"}, nil)
	if j.code != ExitOK || hasLabel(w.gh) {
		t.Errorf("exit %d, label on %v; want 0 and the label removed", j.code, hasLabel(w.gh))
	}
	if body := w.sticky().Body; !strings.Contains(body, "label was removed: new commits were pushed") {
		t.Errorf("the comment does not say the label was removed:\n%s", body)
	}
}

// A scheduled merge job keeps the plan in the tracking issue, with the
// shards line after the marker, as a single job keeps its plan.
func TestMergeOnScheduleWritesTheTrackingIssue(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, shardConfig)
	cloud := orgCloud()
	sched := map[string]any{"schedule": "0 3 * * *"}
	for k := 1; k <= 4; k++ {
		j := w.runEvent("schedule", sched, map[string]string{"shard": fmt.Sprintf("%d/4", k)}, cloud.connect)
		w.collect(j, "plan-file", "shards", k)
	}
	j := w.runEvent("schedule", sched, map[string]string{"merge": "shards/*/*.json", "tracking-issue": "true"}, nil)
	if j.code != ExitOK || j.out["comment-url"] == "" {
		t.Fatalf("exit %d, outputs %v; want 0 and the tracking issue", j.code, j.out)
	}
	issues := w.gh.Issues()
	var body string
	for _, is := range issues {
		if strings.HasPrefix(is.Body, "<!-- broom:plan ") {
			body = is.Body
		}
	}
	m, _ := pr.ParseMarker(body)
	s, ok := pr.ParseShards(body)
	if m.Fingerprint != j.out["fingerprint"] || !ok || s.Actions() != 16 {
		t.Errorf("tracking issue: marker %+v, shards %+v (%v); want the merged plan's:\n%s", m, s, ok, body)
	}
}

// approvedFlow is a PR planned in 4 shards, merged and approved.
func approvedFlow(t *testing.T) (*shardWorld, *fakeAWS, map[string]any) {
	t.Helper()
	w := newShardWorld(t, shardConfig)
	cloud := orgCloud()
	w.planned(cloud, 4)
	return w, cloud, w.approved()
}

// firstTarget is the account and region of shard k's first target.
func (w *shardWorld) firstTarget(k int) (string, string) {
	w.t.Helper()
	f := w.shardFileOf("shards", k)
	if len(f.Shard.Targets) == 0 {
		w.t.Fatalf("shard %d/4 covers no target", k)
	}
	account, region, _ := strings.Cut(f.Shard.Targets[0], "/")
	return account, region
}

// Drift in one shard: that slice is left untouched (exit 4), the others
// apply; the results show the drifted slice's new actions and approve
// exactly those, with a note naming the shard.
func TestShardDriftLeavesItsSliceAlone(t *testing.T) {
	t.Parallel()
	w, cloud, approval := approvedFlow(t)
	account, region := w.firstTarget(2)
	cloud.add(account, region, "snap-new")
	jobs := w.applyShards(cloud, approval, 4)
	for k, j := range jobs {
		want := ExitOK
		if k+1 == 2 {
			want = ExitDrift
		}
		if j.code != want {
			t.Errorf("apply shard %d/4: exit %d, want %d", k+1, j.code, want)
		}
	}
	drifted := w.shardFileOf("results", 2)
	if !drifted.Drift || drifted.Plan.Applied() || !cloud.has(account, region, "snap-new") || !cloud.has(account, region, "snap-"+account[9:]+"-"+region+"-1") {
		t.Errorf("the drifted shard applied something or its file does not say drift: %+v", drifted)
	}
	if !jobs[1].says("Drift: this shard's plan changed since it was approved") {
		t.Errorf("the drifted shard's summary does not say so:\n%s", jobs[1].stdout)
	}
	res := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil)
	if res.code != ExitDrift || res.out["result"] != "drift" {
		t.Errorf("results job: exit %d, outputs %v; want %d and drift", res.code, res.out, ExitDrift)
	}
	body := w.sticky().Body
	m, _ := pr.ParseMarker(body)
	s, _ := pr.ParseShards(body)
	if m.Fingerprint != drifted.Fingerprint || s.Slices[1].Fingerprint != drifted.Fingerprint || s.Slices[1].Actions != len(drifted.Actions) {
		t.Errorf("after drift the comment approves %.12s, slice 2 %+v; want the drifted slice's new plan %.12s", m.Fingerprint, s.Slices[1], drifted.Fingerprint)
	}
	for i, sl := range s.Slices {
		if i != 1 && (sl.Actions != 0 || sl.Fingerprint != plan.Fingerprint(nil)) {
			t.Errorf("slice %d after apply: %+v; want empty (all done)", i+1, sl)
		}
	}
	if !strings.Contains(body, "Drift in shard 2/4") || !strings.Contains(body, account+"/"+region) {
		t.Errorf("the comment has no note naming shard 2/4 and its target:\n%s", body)
	}
	if hasLabel(w.gh) {
		t.Errorf("the label is still on")
	}

	// The same results again are for an approval the comment no longer shows.
	again := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil)
	want := fmt.Sprintf("result of shard 1/4 (results/1/broom-plan-nightly.json) is for another approval: it applied slice %.12s, the plan shown has %.12s",
		w.shardFileOf("results", 1).Approved, plan.Fingerprint(nil))
	if again.code != ExitMisuse || !again.says(want) {
		t.Errorf("stale results: exit %d; want %d, for another approval:\n%s", again.code, ExitMisuse, again.stdout)
	}
}

// One shard's AWS failing while it plans again: its file says why (exit
// 3), the others apply, and the results name the shard (exit 3).
func TestShardAWSFailureIsPartial(t *testing.T) {
	t.Parallel()
	w, cloud, approval := approvedFlow(t)
	account, region := w.firstTarget(3)
	cloud.failList[account+"/"+region] = "RequestLimitExceeded: slow down"
	jobs := w.applyShards(cloud, approval, 4)
	for k, j := range jobs {
		want := ExitOK // each shard lists only its own targets
		if k+1 == 3 {
			want = ExitPartial
		}
		if j.code != want {
			t.Errorf("apply shard %d/4: exit %d, want %d", k+1, j.code, want)
		}
	}
	if f := w.shardFileOf("results", 3); !strings.Contains(f.Error, "RequestLimitExceeded") {
		t.Errorf("shard 3/4's file does not say why it failed: %q", f.Error)
	}
	res := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil)
	if res.code != ExitPartial || res.out["result"] != "partial" {
		t.Errorf("results job: exit %d, outputs %v; want %d and partial", res.code, res.out, ExitPartial)
	}
	if body := w.sticky().Body; !strings.Contains(body, "The apply of shard 3/4 failed:") || !strings.Contains(body, "RequestLimitExceeded") {
		t.Errorf("the comment does not name the failed shard:\n%s", body)
	}
}

// A shard whose result never came: exit 2 naming it; what the others did
// is still written and the label removed.
func TestShardResultMissing(t *testing.T) {
	t.Parallel()
	w, cloud, approval := approvedFlow(t)
	w.applyShards(cloud, approval, 4)
	if err := os.RemoveAll(filepath.Join(w.dir, "results", "4")); err != nil {
		t.Fatal(err)
	}
	res := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil)
	if res.code != ExitMisuse {
		t.Errorf("results job: exit %d, want %d", res.code, ExitMisuse)
	}
	body := w.sticky().Body
	if !strings.Contains(body, "No result came from shard 4/4") || !strings.Contains(body, "Applied: ") {
		t.Errorf("the comment does not show the results and name the missing shard:\n%s", body)
	}
	if hasLabel(w.gh) {
		t.Errorf("the label is still on")
	}
}

// No result at all (every apply job cancelled): every shard is named
// missing, nothing is approvable from the comment, the label comes off.
func TestShardResultsNoneCame(t *testing.T) {
	t.Parallel()
	w, _, approval := approvedFlow(t)
	res := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil)
	if res.code != ExitMisuse {
		t.Errorf("results job: exit %d, want %d", res.code, ExitMisuse)
	}
	body := w.sticky().Body
	m, _ := pr.ParseMarker(body)
	if strings.Count(body, "No result came from shard") != 4 || m.Fingerprint != plan.Fingerprint(nil) {
		t.Errorf("want 4 missing shards named and nothing approvable:\n%s", body)
	}
	if hasLabel(w.gh) {
		t.Errorf("the label is still on")
	}
}

// An apply shard applies only an approval that still stands: the comment
// must show the approved plan and the label must be on.
func TestApplyShardRefusesAReplayedApproval(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(*shardWorld, *fakeAWS)
		why    string
	}{
		"the label removed since": {func(w *shardWorld, _ *fakeAWS) { w.gh.RemoveLabelAs(shardPR, "dana", approveLabel) },
			"the broom:approved label is no longer on #9"},
		"the same actions shown under another config since": {func(w *shardWorld, cloud *fakeAWS) {
			for k := 1; k <= 4; k++ {
				j := w.run(w.payload("synchronize"), map[string]string{"shard": fmt.Sprintf("%d/4", k), "max-actions": "50"}, cloud.connect)
				w.collect(j, "plan-file", "shards", k)
			}
			w.run(w.payload("opened"), map[string]string{"merge": "shards/*/*.json", "max-actions": "50"}, nil)
		}, "#9 shows other shards than the approved ones"},
		"a new plan shown since": {func(w *shardWorld, cloud *fakeAWS) {
			cloud.add(shardAccounts[0], "us-east-1", "snap-newer")
			w.planned(cloud, 4)
		}, "#9 shows plan "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, cloud, approval := approvedFlow(t)
			tc.change(w, cloud)
			before := len(cloud.snaps)
			j := w.run(approval, map[string]string{"shard": "1/4", "approved": "approved/1/approved-nightly.json"}, cloud.connect)
			if j.code != ExitRefused || !j.says("the approved plan is no longer the one shown: "+tc.why) {
				t.Errorf("exit %d; want %d and %q:\n%s", j.code, ExitRefused, tc.why, j.stdout)
			}
			if len(cloud.snaps) != before {
				t.Errorf("a replayed approval applied something")
			}
		})
	}
}

// An approved file an apply shard cannot trust is misuse, before AWS.
func TestApplyShardRefusesABadApprovedFile(t *testing.T) {
	t.Parallel()
	w, _, approval := approvedFlow(t)
	good, err := os.ReadFile(filepath.Join(w.dir, "approved", "1", "approved-nightly.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec shard.ApprovedFile
	decode(t, good, &rec)
	write := func(name string, data []byte) string {
		if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	noShards := rec
	noShards.Shards = shard.Shards{}
	noShardsJSON, _ := json.Marshal(noShards)
	tests := map[string]struct {
		inputs map[string]string
		want   string
	}{
		"a file that does not parse": {map[string]string{"shard": "1/4", "approved": write("bad.json", []byte("{"))},
			"approved: bad.json is not an approved broom plan"},
		"a file without shards": {map[string]string{"shard": "1/4", "approved": write("plain.json", noShardsJSON)},
			"approved: plain.json has no shards: the plan was not made in shards"},
		"another count of shards": {map[string]string{"shard": "1/3", "approved": "approved/1/approved-nightly.json"},
			"approved: approved/1/approved-nightly.json was approved in 4 shards, not 3 (shard 1/3)"},
		"another config": {map[string]string{"shard": "1/4", "approved": "approved/1/approved-nightly.json", "max-actions": "7"},
			"config changed since the plan was approved"},
		"no file": {map[string]string{"shard": "1/4", "approved": "nowhere.json"}, "approved: open "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			j := w.run(approval, tc.inputs, nil) // nil: no AWS
			if j.code != ExitMisuse || !j.says(tc.want) {
				t.Errorf("exit %d; want %d and %q:\n%s", j.code, ExitMisuse, tc.want, j.stdout)
			}
		})
	}
}

// What a merge job refuses of its files, each before any comment: exit 2
// for files that are not one whole plan, 1 for a shard that failed.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(t *testing.T, w *shardWorld, cloud *fakeAWS)
		glob   string
		code   int
		want   string
	}{
		"no file matches": {func(*testing.T, *shardWorld, *fakeAWS) {}, "nothing/*.json", ExitMisuse,
			`merge "nothing/*.json": no file matches it`},
		"a shard missing": {func(t *testing.T, w *shardWorld, _ *fakeAWS) { os.RemoveAll(filepath.Join(w.dir, "shards", "3")) },
			"shards/*/*.json", ExitMisuse, "shard 3/4 is missing"},
		"a shard twice": {func(t *testing.T, w *shardWorld, _ *fakeAWS) {
			copyFile(t, w, "shards/2/broom-plan-nightly.json", "shards/5/x.json")
		},
			"shards/*/*.json", ExitMisuse, "shard 2/4 is given twice"},
		"a file that is not JSON": {func(t *testing.T, w *shardWorld, _ *fakeAWS) { writeFile(t, w, "shards/9/x.json", "not json") },
			"shards/*/*.json", ExitMisuse, "shards/9/x.json is not a broom shard file"},
		"a shard that failed": {func(t *testing.T, w *shardWorld, cloud *fakeAWS) {
			account, region := w.firstTarget(2)
			cloud.failList[account+"/"+region] = "AccessDenied: no"
			j := w.run(w.payload("opened"), map[string]string{"shard": "2/4"}, cloud.connect)
			if j.code != ExitFailure {
				t.Errorf("the failing plan shard: exit %d, want %d", j.code, ExitFailure)
			}
			w.collect(j, "plan-file", "shards", 2)
		}, "shards/*/*.json", ExitFailure, "shard 2/4"},
		"shards planned with another config": {func(t *testing.T, w *shardWorld, cloud *fakeAWS) {
			for k := 1; k <= 4; k++ {
				j := w.run(w.payload("opened"), map[string]string{"shard": fmt.Sprintf("%d/4", k), "max-actions": "7"}, cloud.connect)
				w.collect(j, "plan-file", "shards", k)
			}
		}, "shards/*/*.json", ExitMisuse, "the shards were planned with another config"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newShardWorld(t, shardConfig)
			cloud := orgCloud()
			w.planShards(cloud, w.payload("opened"), 4)
			tc.change(t, w, cloud)
			j := w.run(w.payload("opened"), map[string]string{"merge": tc.glob}, nil)
			if j.code != tc.code || !j.says(tc.want) {
				t.Errorf("exit %d; want %d and %q:\n%s", j.code, tc.code, tc.want, j.stdout)
			}
			if n := len(w.gh.Comments(shardPR)); n != 0 {
				t.Errorf("a refused merge wrote %d comments", n)
			}
		})
	}
}

// Sharded settings where they mean nothing: exit 2, before GitHub or AWS.
func TestShardedSettingsMisuse(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		action string
		inputs map[string]string
		want   string
	}{
		"gate with shard": {"labeled", map[string]string{"mode": "gate", "shard": "1/2"}, "mode gate takes neither shard nor merge"},
		"a shard on the label without approved": {"labeled", map[string]string{"shard": "1/2"},
			"on the approve label a shard applies only an approved plan: give approved"},
		"approved on a plan event": {"opened", map[string]string{"shard": "1/2", "approved": "a.json"},
			"approved is given, but this event (pull_request) is not the approve label"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newShardWorld(t, shardConfig)
			p := w.payload(tc.action)
			if tc.action == "labeled" {
				p = w.labeled("alice")
			}
			requests := len(w.gh.Requests())
			j := w.run(p, tc.inputs, nil)
			if j.code != ExitMisuse || !j.says(tc.want) {
				t.Errorf("exit %d; want %d and %q:\n%s", j.code, ExitMisuse, tc.want, j.stdout)
			}
			if n := len(w.gh.Requests()) - requests; n != 0 {
				t.Errorf("%d GitHub requests; want none", n)
			}
		})
	}
}

func copyFile(t *testing.T, w *shardWorld, from, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, from))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w, to, string(data))
}

func writeFile(t *testing.T, w *shardWorld, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(w.dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewrite decodes the JSON file name in the workspace into v, lets change
// alter it, and writes it to to.
func rewrite[T any](t *testing.T, w *shardWorld, name, to string, change func(*T)) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	decode(t, data, &v)
	change(&v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w, to, string(out))
}

// What the results job refuses: results it cannot tie to the plan shown.
// Nothing is written to the comment and the label stays.
func TestResultsRefusals(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(t *testing.T, w *shardWorld)
		want   string
	}{
		"plan files instead of results": {func(t *testing.T, w *shardWorld) {
			os.RemoveAll(filepath.Join(w.dir, "results"))
			copyFile(t, w, "shards/1/broom-plan-nightly.json", "results/1/broom-plan-nightly.json")
		}, `merge on the approve label takes the apply jobs' files: results/1/broom-plan-nightly.json is not one (phase "plan")`},
		"a result of another number of shards": {func(t *testing.T, w *shardWorld) {
			rewrite(t, w, "results/1/broom-plan-nightly.json", "results/1/broom-plan-nightly.json", func(f *shard.File) { f.Shard.Count = 5 })
		}, "results/1/broom-plan-nightly.json is shard 1/5, but the plan shown has 4 shards"},
		"a result given twice": {func(t *testing.T, w *shardWorld) {
			copyFile(t, w, "results/1/broom-plan-nightly.json", "results/9/again.json")
		}, "shard 1/4 is given twice: results/1/broom-plan-nightly.json, results/9/again.json"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, cloud, approval := approvedFlow(t)
			w.applyShards(cloud, approval, 4)
			before := w.sticky().Body
			tc.change(t, w)
			j := w.run(approval, map[string]string{"merge": "results/*/*.json"}, nil)
			if j.code != ExitMisuse || !j.says(tc.want) {
				t.Errorf("exit %d; want %d and %q:\n%s", j.code, ExitMisuse, tc.want, j.stdout)
			}
			if w.sticky().Body != before || !hasLabel(w.gh) {
				t.Errorf("a refused results job changed the comment or the label")
			}
		})
	}
}

// A results job on a pull request whose comment is not a sharded plan.
func TestResultsNeedASharedPlan(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		comment string // "" = none
		want    string
	}{
		"no plan comment":           {"", "#9 has no plan from broom: these results are for no plan shown"},
		"a plan not made in shards": {shownBody(shownFP, nil, 3), "the plan shown in #9 was not made in shards: these results are for another approval"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newShardWorld(t, shardConfig)
			if tc.comment != "" {
				w.gh.AddComment(shardPR, prtest.DefaultLogin, tc.comment)
			}
			j := w.run(w.labeled("alice"), map[string]string{"merge": "results/*/*.json"}, nil)
			if j.code != ExitMisuse || !j.says(tc.want) {
				t.Errorf("exit %d; want %d and %q:\n%s", j.code, ExitMisuse, tc.want, j.stdout)
			}
		})
	}
}

// Plan files are what a merge on a plan event takes, not apply results.
func TestMergeOfResultsOnAPlanEvent(t *testing.T) {
	t.Parallel()
	w, cloud, approval := approvedFlow(t)
	w.applyShards(cloud, approval, 4)
	j := w.run(w.payload("synchronize"), map[string]string{"merge": "results/*/*.json"}, nil)
	want := "merge on this event takes the plan jobs' files: results/1/broom-plan-nightly.json is of the apply phase"
	if j.code != ExitMisuse || !j.says(want) {
		t.Errorf("exit %d; want %d and %q:\n%s", j.code, ExitMisuse, want, j.stdout)
	}
}

// An approved file whose shards are not the ones the comment shows does
// not apply, even with the same fingerprint; nor does one that is not a
// whole approval.
func TestApplyShardComparesTheShards(t *testing.T) {
	t.Parallel()
	w, cloud, approval := approvedFlow(t)
	rewrite(t, w, "approved/1/approved-nightly.json", "approved/2/other.json", func(r *shard.ApprovedFile) {
		r.Shards.Slices[0], r.Shards.Slices[1] = r.Shards.Slices[1], r.Shards.Slices[0]
		r.Shards.Slices[0].Index, r.Shards.Slices[1].Index = 1, 2
	})
	rewrite(t, w, "approved/1/approved-nightly.json", "approved/3/partial.json", func(r *shard.ApprovedFile) {
		r.Shards.Slices = r.Shards.Slices[:3]
	})
	rewrite(t, w, "approved/1/approved-nightly.json", "approved/4/all.json", func(r *shard.ApprovedFile) {
		r.Shards.All = strings.Repeat("0", 64)
	})
	before := len(cloud.snaps)
	for _, name := range []string{"approved/2/other.json", "approved/4/all.json"} {
		j := w.run(approval, map[string]string{"shard": "1/4", "approved": name}, cloud.connect)
		if j.code != ExitRefused || !j.says("the approved plan is no longer the one shown: #9 shows other shards than the approved ones") {
			t.Errorf("%s: exit %d; want %d:\n%s", name, j.code, ExitRefused, j.stdout)
		}
	}
	j := w.run(approval, map[string]string{"shard": "1/4", "approved": "approved/3/partial.json"}, nil)
	if j.code != ExitMisuse || !j.says("approved: approved/3/partial.json has 3 slices for 4 shards") {
		t.Errorf("partial approval: exit %d; want %d:\n%s", j.code, ExitMisuse, j.stdout)
	}
	if len(cloud.snaps) != before {
		t.Errorf("something was applied")
	}
}

// Sharded approval is for pull requests; a shard applies only on the label.
func TestShardedSettingsOnOtherEvents(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t, shardConfig)
	is := prtest.Payload(t, "issues", "labeled")
	prtest.Set(is, "label.name", approveLabel)
	prtest.Set(is, "issue.body", shownBody(shownFP, nil, 1))
	j := w.runEvent("issues", is, map[string]string{"shard": "1/4", "approved": "a.json"}, nil)
	if j.code != ExitMisuse || !j.says("sharded approval is PR-only") {
		t.Errorf("issues: exit %d; want %d, PR-only:\n%s", j.code, ExitMisuse, j.stdout)
	}
	j = w.runEvent("schedule", map[string]any{"schedule": "0 3 * * *"}, map[string]string{"shard": "1/4", "mode": "apply"}, nil)
	if j.code != ExitMisuse || !j.says("shard with mode apply: a shard applies only an approved plan") {
		t.Errorf("schedule: exit %d; want %d:\n%s", j.code, ExitMisuse, j.stdout)
	}
	if n := len(w.gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests; want none", n)
	}
}

// With no regions in the config the shards take theirs from AWS_REGION, as
// AWS's credentials step sets it; the merge job has no AWS environment and
// still merges, and refuses shards of another region.
func TestMergeWithoutTheShardsRegion(t *testing.T) {
	t.Parallel()
	cfg := "version: 1\nid: nightly\nrules:\n  - {name: old, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n"
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		w := newShardWorld(t, cfg)
		cloud := orgCloud()
		for k := 1; k <= 4; k++ {
			j := w.run(w.payload("opened"), map[string]string{"shard": fmt.Sprintf("%d/4", k), "env:AWS_REGION": region}, cloud.connect)
			w.collect(j, "plan-file", "shards", k)
		}
		j := w.run(w.payload("opened"), map[string]string{"merge": "shards/*/*.json"}, nil)
		if j.code != ExitOK || j.out["planned"] != "8" {
			t.Errorf("shards in %s: merge exit %d, outputs %v; want 0 and 8 actions", region, j.code, j.out)
		}
	}
	w := newShardWorld(t, cfg)
	cloud := orgCloud()
	for k := 1; k <= 4; k++ {
		j := w.run(w.payload("opened"), map[string]string{"shard": fmt.Sprintf("%d/4", k), "env:AWS_REGION": "eu-west-1", "max-actions": "7"}, cloud.connect)
		w.collect(j, "plan-file", "shards", k)
	}
	if j := w.run(w.payload("opened"), map[string]string{"merge": "shards/*/*.json"}, nil); j.code != ExitMisuse || !j.says("the shards were planned with another config") {
		t.Errorf("shards of another config: exit %d; want %d:\n%s", j.code, ExitMisuse, j.stdout)
	}
}

// A note names at most 10 targets, then how many more.
func TestTargetsNamed(t *testing.T) {
	t.Parallel()
	keys := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("1000000000%02d/us-east-1", i))
		}
		return out
	}
	if got := targets(keys(10)); strings.Contains(got, "more") || strings.Count(got, "/us-east-1") != 10 {
		t.Errorf("10 targets: %q, want all 10", got)
	}
	if got := targets(keys(11)); !strings.HasSuffix(got, "100000000009/us-east-1 and 1 more") {
		t.Errorf("11 targets: %q, want 10 and 1 more", got)
	}
	if got := targets(nil); got != "none known" {
		t.Errorf("no targets: %q", got)
	}
}

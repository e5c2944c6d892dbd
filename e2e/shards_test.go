package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/faults"
)

// Issue 16 item 6: an organization of twelve accounts in two regions,
// planned and applied in four shards through the built binary, as the
// jobs of examples/workflows/organization.yml run it.

// row returns the comment's table row of a resource, "" if none.
func row(body, id string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "|") && strings.Contains(line, "`"+id+"`") {
			return line
		}
	}
	return ""
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// The plan of four shards, merged, is the plan of one process: the same
// fingerprint and the same rows, through `broom plan --shard` and `broom
// merge` and through the action's shard and merge modes; each shard
// covers exactly the targets the contract's hash gives it, and the merge
// job makes no AWS call.
func TestShardsMergeToTheSingleProcessPlan(t *testing.T) {
	f := newFleet(t)
	planned := slices.Sorted(maps.Keys(f.snaps))

	single := f.cli("plan", "--format", "json")
	one := decodeFile[mergedFile](t, "broom plan --format json", []byte(single.stdout))
	if single.code != 0 || !cmp.Equal(actionIDs(one.Actions), planned) {
		t.Fatalf("one process: exit %d, plans %v; want 0 and %v", single.code, actionIDs(one.Actions), planned)
	}

	// broom plan --shard K/4 --out F, then broom merge.
	files := f.cliShards()
	var covered []string
	var config string
	for i, file := range files {
		k := i + 1
		s := readFile[shardFile](t, file)
		where := fmt.Sprintf("shard %d/%d", k, shards)
		if s.Phase != "plan" || s.Error != "" || s.Shard.Index != k || s.Shard.Count != shards || s.ID != "nightly" {
			t.Errorf("%s: phase %q, error %q, shard %d/%d, id %q; want plan, none, %d/%d, nightly",
				where, s.Phase, s.Error, s.Shard.Index, s.Shard.Count, s.ID, k, shards)
		}
		if s.Shard.Total != len(f.keys) || s.Shard.All != keysDigest(f.keys) {
			t.Errorf("%s: all %s of %d targets, want %s of %d", where, s.Shard.All, s.Shard.Total, keysDigest(f.keys), len(f.keys))
		}
		if config == "" {
			config = s.Shard.Config
		}
		if !hex64.MatchString(s.Shard.Config) || s.Shard.Config != config {
			t.Errorf("%s: config digest %q, want 64 hex digits, the same in every shard (%s)", where, s.Shard.Config, config)
		}
		for _, key := range s.Shard.Targets {
			if shardOf(key, shards) != k {
				t.Errorf("%s covers %s, which hashes to shard %d", where, key, shardOf(key, shards))
			}
		}
		covered = append(covered, s.Shard.Targets...)
		if diff := cmp.Diff(f.inShard(k), actionIDs(s.Actions)); diff != "" {
			t.Errorf("%s plans other snapshots than those of its targets (-want +got):\n%s", where, diff)
		}
		var accounts []string
		for _, a := range s.Accounts {
			accounts = append(accounts, a.ID)
		}
		if diff := cmp.Diff(f.members, accounts); diff != "" {
			t.Errorf("%s: accounts are not every account of the run (-want +got):\n%s", where, diff)
		}
	}
	slices.Sort(covered)
	if diff := cmp.Diff(f.keys, covered); diff != "" {
		t.Errorf("the shards do not cover every target exactly once (-want +got):\n%s", diff)
	}

	out := filepath.Join(t.TempDir(), "merged.json")
	merge := f.cli(append([]string{"merge", "--format", "json", "--out", out}, files...)...)
	if merge.code != 0 {
		t.Fatalf("broom merge: exit %d: %s", merge.code, merge.stderr)
	}
	m := readFile[mergedFile](t, out)
	printed := decodeFile[mergedFile](t, "broom merge --format json", []byte(merge.stdout))
	if m.Fingerprint != one.Fingerprint || printed.Fingerprint != one.Fingerprint {
		t.Errorf("merged fingerprint %s (printed %s), one process %s: want the same", m.Fingerprint, printed.Fingerprint, one.Fingerprint)
	}
	if diff := cmp.Diff(one.Actions, m.Actions); diff != "" {
		t.Errorf("the merged plan's rows are not the one process's (-one +merged):\n%s", diff)
	}
	if !slices.Contains(actionIDs(m.LeftAlone), f.kept) {
		t.Errorf("the merged plan does not leave %s (broom:keep) alone: %v", f.kept, actionIDs(m.LeftAlone))
	}
	if m.Shards.Count != shards || m.Shards.Config != config || m.Shards.All != keysDigest(f.keys) || len(m.Shards.Slices) != shards {
		t.Fatalf("merged shards %+v: want %d slices of config %s", m.Shards, shards, config)
	}
	for i, file := range files {
		s := readFile[shardFile](t, file)
		if want := (slice{Index: i + 1, Fingerprint: s.Fingerprint, Actions: len(s.Actions)}); m.Shards.Slices[i] != want {
			t.Errorf("merged slice %+v, want shard %d's file: %+v", m.Shards.Slices[i], i+1, want)
		}
	}

	// The action: one process, then the plan matrix and the merge job.
	r := f.run("pull_request", f.prPayload("opened"), nil)
	r.want(t, 0, map[string]string{"result": "planned", "planned": fmt.Sprint(len(planned)), "fingerprint": one.Fingerprint})
	oneBody := f.comment()
	if _, _, ok := shownShards(t, oneBody); ok {
		t.Errorf("one process's comment has a shards line:\n%s", oneBody)
	}
	labels := f.gh.Labels(prNumber)
	jobs := f.planShards("pull_request", f.prPayload("opened"))
	for i, j := range jobs {
		k := i + 1
		s, cli := readFile[shardFile](t, filepath.Join(f.dir, j.uploaded)), readFile[shardFile](t, files[i])
		if s.Fingerprint != cli.Fingerprint || !cmp.Equal(s.Shard, cli.Shard) {
			t.Errorf("action shard %d: fingerprint %s, coverage %+v; broom plan --shard gave %s, %+v", k, s.Fingerprint, s.Shard, cli.Fingerprint, cli.Shard)
		}
		for _, id := range planned {
			if mine := slices.Contains(f.inShard(k), id); strings.Contains(j.summary, id) != mine {
				t.Errorf("action shard %d: its job summary shows %s: %v, want %v (its slice only)", k, id, !mine, mine)
			}
		}
	}
	if body := f.comment(); body != oneBody || !cmp.Equal(f.gh.Labels(prNumber), labels) {
		t.Errorf("a plan shard changed the comment or the labels: labels %v, comment:\n%s", f.gh.Labels(prNumber), body)
	}

	f.rec.Reset()
	mr := f.run("pull_request", f.prPayload("opened"), map[string]string{"merge": "shards/*/*.json"})
	mr.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": fmt.Sprint(len(planned)), "fingerprint": one.Fingerprint})
	if calls := f.rec.Calls(); len(calls) > 0 {
		t.Errorf("the merge job called AWS: %v", calls)
	}
	body := f.comment()
	fp, shown, ok := shownShards(t, body)
	if !ok || fp != one.Fingerprint || !cmp.Equal(shown, m.Shards.Slices) {
		t.Errorf("comment: marker %s, shards line %v (found %v); want %s and %v", fp, shown, ok, one.Fingerprint, m.Shards.Slices)
	}
	pf := decodeFile[mergedFile](t, "the merge job's plan-file", mr.file(t, "plan-file"))
	if pf.Fingerprint != one.Fingerprint || !cmp.Equal(pf.Shards, m.Shards) {
		t.Errorf("the merge job's plan file: %s, %+v; want %s, %+v", pf.Fingerprint, pf.Shards, one.Fingerprint, m.Shards)
	}
	// One process again, in the same place as the merge was (a plan
	// before it: "unchanged since the last plan"), writes what the merge
	// wrote but the shards line.
	f.run("pull_request", f.prPayload("opened"), nil).want(t, 0, map[string]string{"fingerprint": one.Fingerprint})
	again := f.comment()
	if _, _, ok := shownShards(t, again); ok {
		t.Errorf("one process's comment after the merged one kept a shards line:\n%s", again)
	}
	if diff := cmp.Diff(again, withoutShardsLine(body)); diff != "" {
		t.Errorf("the merged comment, without its shards line, is not one process's (-one +merged):\n%s", diff)
	}
}

// approve runs the plan matrix and the merge job, and alice's approval
// through the gate: the labeled payload and the approved file.
func (f *fleet) approve() (labeled map[string]any, approved string) {
	f.t.Helper()
	f.planShards("pull_request", f.prPayload("opened"))
	f.run("pull_request", f.prPayload("opened"), map[string]string{"merge": "shards/*/*.json"}).
		want(f.t, 0, map[string]string{"result": "planned", "planned": fmt.Sprint(len(f.snaps))})
	labeled = f.labeled("alice", label)
	return labeled, f.gate(labeled)
}

// results runs the results job on the labeled payload, checks that it made
// no AWS call and removed the label, and returns it.
func (f *fleet) results(labeled map[string]any) result {
	f.t.Helper()
	f.rec.Reset()
	r := f.run("pull_request", labeled, map[string]string{"merge": "results/*/*.json"})
	if calls := f.rec.Calls(); len(calls) > 0 {
		f.t.Errorf("the results job called AWS: %v", calls)
	}
	if contains(f.gh.Labels(prNumber), label) {
		f.t.Errorf("the approve label is still on after the results job")
	}
	return r
}

// One approval, the gate, four apply shards and the results job: every
// snapshot deleted, one comment with every result, the label removed,
// exit 0. The gate and the results job make no AWS call; the apply shards
// neither comment nor touch the label.
func TestShardsApprovalAppliedByShards(t *testing.T) {
	f := newFleet(t)
	f.planShards("pull_request", f.prPayload("opened"))
	f.run("pull_request", f.prPayload("opened"), map[string]string{"merge": "shards/*/*.json"}).want(t, 0, nil)
	shownFP, shown, _ := shownShards(t, f.comment())
	labeled := f.labeled("alice", label)

	f.rec.Reset()
	approved := f.gate(labeled)
	if calls := f.rec.Calls(); len(calls) > 0 {
		t.Errorf("the gate called AWS: %v", calls)
	}
	var a struct {
		Version     int    `json:"version"`
		Fingerprint string `json:"fingerprint"`
		Head        string `json:"head"`
		ApprovedBy  string `json:"approved_by"`
		Shards      struct {
			Count  int     `json:"count"`
			Slices []slice `json:"slices"`
		} `json:"shards"`
	}
	data, err := os.ReadFile(filepath.Join(f.dir, approved))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("approved file: %v\n%s", err, data)
	}
	if a.Version != 1 || a.Fingerprint != shownFP || a.Head != headSHA || a.ApprovedBy != "alice" || a.Shards.Count != shards || !cmp.Equal(a.Shards.Slices, shown) {
		t.Errorf("approved file %+v: want version 1, fingerprint %s, head %s, by alice, the comment's slices %v", a, shownFP, headSHA, shown)
	}
	if !contains(f.gh.Labels(prNumber), label) {
		t.Fatal("the gate removed the approve label: the apply shards would refuse")
	}

	body := f.comment()
	jobs := f.applyShards(labeled, approved, nil)
	for i, j := range jobs {
		k := i + 1
		if j.code != 0 || j.uploaded == "" {
			t.Errorf("apply shard %d: exit %d, result file %q; want 0 and a file", k, j.code, j.uploaded)
			continue
		}
		s := readFile[shardFile](t, filepath.Join(f.dir, j.uploaded))
		if s.Phase != "apply" || s.Drift || s.Error != "" || s.Approved != shown[i].Fingerprint {
			t.Errorf("apply shard %d: phase %q, drift %v, error %q, approved %s; want apply, no drift, no error, %s",
				k, s.Phase, s.Drift, s.Error, s.Approved, shown[i].Fingerprint)
		}
		if diff := cmp.Diff(f.inShard(k), actionIDs(s.Actions)); diff != "" {
			t.Errorf("apply shard %d applied other snapshots than its slice's (-want +got):\n%s", k, diff)
		}
		for _, act := range s.Actions {
			if act.Status != "done" {
				t.Errorf("apply shard %d: %s is %q (%s), want done", k, act.ID, act.Status, act.Error)
			}
		}
	}
	if f.comment() != body || !contains(f.gh.Labels(prNumber), label) {
		t.Error("an apply shard changed the comment or removed the label: that is the results job's")
	}

	r := f.results(labeled)
	r.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "applied": fmt.Sprint(len(f.snaps)), "failed": "0", "skipped": "0"})
	body = f.comment()
	for id := range f.snaps {
		if !f.gone(id) {
			t.Errorf("%s of %s still exists", id, f.snaps[id])
		}
		if got := row(body, id); !strings.HasSuffix(got, "| done |") {
			t.Errorf("the comment's row of %s is %q, want it done", id, got)
		}
	}
	if _, ok := awstest.Snapshots(t, f.cfgs[f.keys[3]])[f.kept]; !ok {
		t.Errorf("the protected %s was deleted", f.kept)
	}
}

// One shard's AWS fails while it plans its slice again (its runner's calls
// are refused), and in another one snapshot cannot be deleted: the other
// slices are applied; the results job exits 3 and names the shard, the
// error and the snapshot; the failed shard's slice is untouched.
func TestShardsOneShardsAWSFailing(t *testing.T) {
	f := newFleet(t)
	busy := f.busyShards()
	broken, partial := busy[0], busy[1]
	stuck := f.inShard(partial)[0]
	labeled, approved := f.approve()

	refused := f.refusingProxy()
	inUse, err := faults.New(f.rec.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inUse.Close)
	inUse.SetRules(faults.Rule{Op: "DeleteSnapshot", IDs: []string{stuck},
		Fault: faults.APIError(400, "InvalidSnapshot.InUse", "The snapshot "+stuck+" is currently in use by ami-0123")})

	jobs := f.applyShards(labeled, approved, func(k int) []string {
		switch k {
		case broken:
			return []string{"AWS_ENDPOINT_URL=" + refused.URL()}
		case partial:
			return []string{"AWS_ENDPOINT_URL=" + inUse.URL()}
		}
		return nil
	})
	for i, j := range jobs {
		k := i + 1
		want := 0
		if k == broken || k == partial {
			want = 3
		}
		if j.code != want || j.uploaded == "" {
			t.Errorf("apply shard %d: exit %d, result file %q; want %d and a file", k, j.code, j.uploaded, want)
		}
	}
	if s := readFile[shardFile](t, filepath.Join(f.dir, jobs[broken-1].uploaded)); !strings.Contains(s.Error, "UnauthorizedOperation") {
		t.Errorf("the broken shard's file: error %q, want it to say UnauthorizedOperation", s.Error)
	}
	if n := refused.Stats()["DeleteSnapshot"].Requests; n != 0 {
		t.Errorf("the shard that could not plan its slice again deleted %d snapshots", n)
	}

	r := f.results(labeled)
	r.want(t, 3, map[string]string{"mode": "apply", "result": "partial"})
	body := f.comment()
	brokenName := fmt.Sprintf("shard %d/%d", broken, shards)
	for what, text := range map[string]string{"comment": body, "job summary": r.summary, "log": r.stdout + r.stderr} {
		for _, want := range []string{brokenName, "UnauthorizedOperation"} {
			if !strings.Contains(text, want) {
				t.Errorf("the results job's %s does not say %q", what, want)
			}
		}
	}
	if got := row(body, stuck); !strings.Contains(got, "InvalidSnapshot.InUse") {
		t.Errorf("the comment's row of %s is %q, want it failed with InvalidSnapshot.InUse", stuck, got)
	}
	for id, key := range f.snaps {
		switch keep := shardOf(key, shards) == broken || id == stuck; {
		case keep && f.gone(id):
			t.Errorf("%s of %s was deleted, though its shard failed", id, key)
		case !keep && !f.gone(id):
			t.Errorf("%s of %s still exists, though its shard applied", id, key)
		}
	}
	// What remains and is shown: the failed deletion; the broken slice's
	// rows are not known without AWS, so nothing of it is approvable here.
	_, shown, ok := shownShards(t, body)
	if !ok || len(shown) != shards {
		t.Fatalf("the results comment's shards line: %v (found %v), want %d slices", shown, ok, shards)
	}
	for _, s := range shown {
		want := 0
		if s.Index == partial {
			want = 1
		}
		if s.Actions != want {
			t.Errorf("after the results, slice %d shows %d actions, want %d", s.Index, s.Actions, want)
		}
	}
}

// A shard file missing, or given twice, or planned with another config:
// the merge is exit 2 naming it, on the command line and in the merge
// job, which then writes no comment and makes no AWS call.
func TestShardsMissingOrDuplicateShardIsMisuse(t *testing.T) {
	f := newFleet(t)
	files := f.cliShards()
	twice := filepath.Join(t.TempDir(), "again.json")
	data, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(twice, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		files []string
		want  string
	}{
		"missing":   {files: []string{files[0], files[1], files[3]}, want: "shard 3/4 is missing"},
		"duplicate": {files: append(slices.Clone(files), twice), want: "shard 2/4 is given twice: " + files[1] + ", " + twice},
	} {
		r := f.cli(append([]string{"merge"}, c.files...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: broom merge: exit %d, stderr %q; want 2 and one line saying %q", name, r.code, r.stderr, c.want)
		}
	}

	// Shard 2 planned again after the config changed.
	f.writeConfig(strings.Replace(readConfig(t, f.world), "older-than: 30d", "older-than: 60d", 1))
	other := filepath.Join(t.TempDir(), "shard-2.json")
	if r := f.cli("plan", "--shard", "2/4", "--out", other); r.code != 0 {
		t.Fatalf("broom plan --shard 2/4: exit %d: %s", r.code, r.stderr)
	}
	r := f.cli("merge", files[0], other, files[2], files[3])
	if want := "shard 2/4 (" + other + ") was planned with another config"; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("broom merge with another config's shard: exit %d, stderr %q; want 2 saying %q", r.code, r.stderr, want)
	}
	f.writeConfig(strings.Replace(readConfig(t, f.world), "older-than: 60d", "older-than: 30d", 1))

	// The merge job, shard 3's artifact missing.
	f.planShards("pull_request", f.prPayload("opened"))
	if err := os.RemoveAll(filepath.Join(f.dir, "shards", "broom-shard-3")); err != nil {
		t.Fatal(err)
	}
	f.rec.Reset()
	m := f.run("pull_request", f.prPayload("opened"), map[string]string{"merge": "shards/*/*.json"})
	m.want(t, 2, map[string]string{"result": "error"})
	if !strings.Contains(m.stderr+m.stdout, "shard 3/4 is missing") {
		t.Errorf("the merge job does not say shard 3/4 is missing")
	}
	if c := f.stickyComments(); len(c) != 0 {
		t.Errorf("the merge job wrote a comment from three shards of four:\n%s", c[0].Body)
	}
	if calls := f.rec.Calls(); len(calls) > 0 {
		t.Errorf("the merge job called AWS: %v", calls)
	}
	// No file at all.
	if err := os.RemoveAll(filepath.Join(f.dir, "shards")); err != nil {
		t.Fatal(err)
	}
	m = f.run("pull_request", f.prPayload("opened"), map[string]string{"merge": "shards/*/*.json"})
	m.want(t, 2, nil)
	if !strings.Contains(m.stderr+m.stdout, "shards/*/*.json") {
		t.Errorf("the merge job with no file does not name the glob")
	}
}

// readConfig returns the world's config file.
func readConfig(t *testing.T, w *world) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, ".github", "broom.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A snapshot appears in one slice between the approval and the apply: that
// slice applies nothing (exit 4), the others apply theirs; the results job
// exits 4 and its comment shows the slice's new rows, which are then what
// is approvable: approving them again applies them.
func TestShardsDriftInOneSlice(t *testing.T) {
	f := newFleet(t)
	drifted := f.busyShards()[0]
	labeled, approved := f.approve()
	var target string
	for _, key := range f.keys {
		if shardOf(key, shards) == drifted {
			target = key
			break
		}
	}
	appeared := f.oldSnapshot(target, nil)
	f.snaps[appeared] = target
	sliceIDs := f.inShard(drifted)

	jobs := f.applyShards(labeled, approved, nil)
	for i, j := range jobs {
		want := 0
		if i+1 == drifted {
			want = 4
		}
		if j.code != want || j.uploaded == "" {
			t.Errorf("apply shard %d: exit %d, result file %q; want %d and a file", i+1, j.code, j.uploaded, want)
		}
	}
	fresh := readFile[shardFile](t, filepath.Join(f.dir, jobs[drifted-1].uploaded))
	if !fresh.Drift || fresh.Phase != "apply" || !cmp.Equal(actionIDs(fresh.Actions), sliceIDs) {
		t.Errorf("the drifted shard's file: drift %v, phase %q, actions %v; want drift, apply, the fresh slice %v",
			fresh.Drift, fresh.Phase, actionIDs(fresh.Actions), sliceIDs)
	}
	for id, key := range f.snaps {
		if mine := shardOf(key, shards) == drifted; mine == f.gone(id) {
			t.Errorf("%s of %s: gone %v, want %v (drifted slice untouched, the others applied)", id, key, f.gone(id), !mine)
		}
	}

	r := f.results(labeled)
	r.want(t, 4, map[string]string{"mode": "apply", "result": "drift"})
	body := f.comment()
	for _, id := range sliceIDs {
		if got := row(body, id); got == "" || strings.HasSuffix(got, "| done |") {
			t.Errorf("the comment's row of %s in the drifted slice is %q, want it shown, not done", id, got)
		}
	}
	if !strings.Contains(body, fmt.Sprintf("shard %d/%d", drifted, shards)) {
		t.Errorf("the comment does not name shard %d/%d as drifted:\n%s", drifted, shards, body)
	}
	fp, shown, ok := shownShards(t, body)
	if !ok || fp != fresh.Fingerprint {
		t.Errorf("after drift the comment approves %s (shards line %v), want the drifted slice's fresh plan %s", fp, ok, fresh.Fingerprint)
	}
	for _, s := range shown {
		want := 0
		if s.Index == drifted {
			want = len(sliceIDs)
		}
		if s.Actions != want {
			t.Errorf("after drift, slice %d shows %d actions, want %d", s.Index, s.Actions, want)
		}
	}

	// What the comment shows is approvable: a new approval applies it.
	f.gh.Advance(time.Minute)
	again := f.labeled("alice", label)
	approved = f.gate(again)
	for i, j := range f.applyShards(again, approved, nil) {
		if j.code != 0 {
			t.Errorf("second apply, shard %d: exit %d, want 0", i+1, j.code)
		}
	}
	f.results(again).want(t, 0, map[string]string{"result": "applied", "applied": fmt.Sprint(len(sliceIDs))})
	for _, id := range sliceIDs {
		if !f.gone(id) {
			t.Errorf("%s still exists after the second approval", id)
		}
	}
}

// On the command line: the operator merges the shard files and applies
// the merged plan shard by shard (`broom apply --shard K/4 --approved
// merged.json --yes`), each shard only its slice; a slice that changed
// since is drift, exit 4, nothing of it applied. Misuse is exit 2 before
// any AWS call.
func TestShardsCLIApplyByShards(t *testing.T) {
	f := newFleet(t)
	merged := filepath.Join(t.TempDir(), "merged.json")
	if r := f.cli(append([]string{"merge", "--out", merged}, f.cliShards()...)...); r.code != 0 {
		t.Fatalf("broom merge: exit %d: %s", r.code, r.stderr)
	}

	f.rec.Reset()
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"approved without shard": {[]string{"apply", "--approved", merged, "--yes"}, "approved"},
		"shard out of range":     {[]string{"apply", "--shard", "5/4", "--approved", merged, "--yes"}, "want K/N with 1 ≤ K ≤ N, e.g. 2/4"},
		"another count":          {[]string{"apply", "--shard", "1/3", "--approved", merged, "--yes"}, "3"},
	} {
		r := f.cli(c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line saying %q", name, r.code, r.stderr, c.want)
		}
	}
	if calls := f.rec.Calls(); len(calls) > 0 {
		t.Errorf("misuse reached AWS: %v", calls)
	}

	drifted := f.busyShards()[1]
	var target string
	for _, key := range f.keys {
		if shardOf(key, shards) == drifted {
			target = key
			break
		}
	}
	appeared := f.oldSnapshot(target, nil)
	f.snaps[appeared] = target
	for k := 1; k <= shards; k++ {
		before := map[string]bool{}
		for id := range f.snaps {
			before[id] = f.gone(id)
		}
		r := f.cli("apply", "--shard", fmt.Sprintf("%d/%d", k, shards), "--approved", merged, "--yes")
		want := 0
		if k == drifted {
			want = 4
		}
		if r.code != want {
			t.Errorf("broom apply --shard %d/%d: exit %d, want %d", k, shards, r.code, want)
		}
		for id, key := range f.snaps {
			if applied := shardOf(key, shards) == k && k != drifted; f.gone(id) != (before[id] || applied) {
				t.Errorf("after shard %d/%d: %s of %s gone %v, want %v", k, shards, id, key, f.gone(id), before[id] || applied)
			}
		}
	}
}

// refusingProxy is a fault proxy in front of the world's recorder that
// answers every DescribeSnapshots with UnauthorizedOperation: a shard
// whose runner points at it cannot list its slice.
func (f *fleet) refusingProxy() *faults.Proxy {
	f.t.Helper()
	p, err := faults.New(f.rec.URL())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(p.Close)
	p.SetRules(faults.Rule{Op: "DescribeSnapshots",
		Fault: faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")})
	return p
}

// A plan shard whose AWS calls fail uploads a file saying why, and the
// merge job fails (exit 1) naming that shard and the error, instead of
// showing a plan without its slice.
func TestShardsFailedPlanShardFailsTheMerge(t *testing.T) {
	f := newFleet(t)
	broken := f.busyShards()[0]
	refused := f.refusingProxy()
	jobs := f.matrix("shards", "broom-shard", "pull_request", f.prPayload("opened"), nil, func(k int) []string {
		if k == broken {
			return []string{"AWS_ENDPOINT_URL=" + refused.URL()}
		}
		return nil
	})
	for i, j := range jobs {
		want := 0
		if i+1 == broken {
			want = 1
		}
		if j.code != want || j.uploaded == "" {
			t.Errorf("plan shard %d: exit %d, file %q; want %d and a file", i+1, j.code, j.uploaded, want)
		}
	}
	m := f.run("pull_request", f.prPayload("opened"), map[string]string{"merge": "shards/*/*.json"})
	m.want(t, 1, map[string]string{"result": "error"})
	for _, want := range []string{fmt.Sprintf("shard %d/%d", broken, shards), "UnauthorizedOperation"} {
		if !strings.Contains(m.stderr+m.stdout, want) || !strings.Contains(m.summary, want) {
			t.Errorf("the merge job's log or summary does not say %q:\n%s", want, m.summary)
		}
	}
	for _, c := range f.stickyComments() {
		if markerPattern.FindStringSubmatch(c.Body) != nil && shardsPattern.MatchString(c.Body) {
			t.Errorf("the failed merge left an approvable sharded plan:\n%s", c.Body)
		}
	}
}

// An apply shard's result missing (its job cancelled, or its upload lost):
// the results job is exit 2 naming the shard, and still writes the other
// slices' results and removes the label.
func TestShardsMissingResultIsExit2(t *testing.T) {
	f := newFleet(t)
	lost := f.busyShards()[0]
	labeled, approved := f.approve()
	f.applyShards(labeled, approved, nil)
	if err := os.RemoveAll(filepath.Join(f.dir, "results", fmt.Sprintf("broom-result-%d", lost))); err != nil {
		t.Fatal(err)
	}
	r := f.results(labeled)
	r.want(t, 2, nil)
	name := fmt.Sprintf("shard %d/%d", lost, shards)
	body := f.comment()
	for what, text := range map[string]string{"log": r.stderr + r.stdout, "comment": body} {
		if !strings.Contains(text, name) {
			t.Errorf("the results job's %s does not name %s:\n%s", what, name, text)
		}
	}
	for id, key := range f.snaps {
		if shardOf(key, shards) != lost && !strings.HasSuffix(row(body, id), "| done |") {
			t.Errorf("the comment's row of %s is %q, want done", id, row(body, id))
		}
	}
	if _, shown, ok := shownShards(t, body); ok {
		for _, s := range shown {
			if s.Actions != 0 {
				t.Errorf("after a missing result, slice %d shows %d approvable actions, want none (its rows are not known)", s.Index, s.Actions)
			}
		}
	}
}

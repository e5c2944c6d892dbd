package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/faults"
)

// An operator's session: plan changes nothing; apply shows the plan, then
// does it and reports each result; apply again has nothing to do; an apply
// that expects another plan's fingerprint changes nothing.
func TestCLIPlanThenApply(t *testing.T) {
	w := newWorld(t)
	old := w.snapshot("-400d", map[string]string{"Environment": "ci"})
	kept := w.snapshot("-400d", map[string]string{"Environment": "ci", "broom:keep": "true"})
	young := w.snapshot("+0", map[string]string{"Environment": "ci"})

	p := w.cli("plan")
	if p.code != 0 || !strings.Contains(p.stdout, old) || !strings.Contains(p.stdout, "Plan: 1 to delete") {
		t.Fatalf("plan: exit %d, want 0 and a table naming %s and \"Plan: 1 to delete\"", p.code, old)
	}
	if strings.Contains(p.stdout, young) {
		t.Errorf("plan names %s, which is younger than 30d", young)
	}
	if !strings.Contains(p.stdout, "account 123456789012") {
		t.Errorf("plan does not name the account it acts in:\n%s", p.stdout)
	}
	if !strings.Contains(p.stdout, "left alone: ebs-snapshot "+kept) {
		t.Errorf("plan does not say %s is left alone", kept)
	}
	w.noMutatingCalls()

	shown := fingerprintOf(t, w)
	other := w.snapshot("-400d", map[string]string{"Environment": "ci"}) // the plan changes
	drift := w.cli("apply", "--expect-fingerprint", shown)
	if drift.code != 4 || !w.exists(old) || !w.exists(other) {
		t.Errorf("apply expecting the older plan's fingerprint: exit %d, %s exists %v, %s exists %v; want 4 and both kept",
			drift.code, old, w.exists(old), other, w.exists(other))
	}

	out := filepath.Join(t.TempDir(), "applied.json")
	a := w.cli("apply", "--yes", "--out", out)
	if a.code != 0 {
		t.Fatalf("apply: exit %d, want 0", a.code)
	}
	before, applied, ok := strings.Cut(a.stdout, "Plan: 2 to delete")
	if !ok || !strings.Contains(before, old) || !strings.Contains(applied, "Applied: 2 done, 0 already done, 0 failed, 0 skipped") {
		t.Errorf("apply output: want the plan (naming %s, then \"Plan: 2 to delete\") before \"Applied: 2 done, …\"", old)
	}
	if w.exists(old) || w.exists(other) || !w.exists(kept) || !w.exists(young) {
		t.Errorf("after apply: %s %v, %s %v (want deleted); %s %v, %s %v (want kept)",
			old, w.exists(old), other, w.exists(other), kept, w.exists(kept), young, w.exists(young))
	}
	var plan struct {
		Actions []struct{ ID, Status string }
	}
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &plan)
	}
	if err != nil {
		t.Fatalf("read --out: %v", err)
	}
	for _, act := range plan.Actions {
		if act.Status != "done" {
			t.Errorf("--out: %s has status %q, want done", act.ID, act.Status)
		}
	}
	if len(plan.Actions) != 2 {
		t.Errorf("--out holds %d actions, want 2", len(plan.Actions))
	}

	// Nothing to do needs no --yes: there is nothing to confirm.
	again := w.cli("apply")
	if again.code != 0 || strings.Count(again.stdout, "Plan: nothing to do") != 1 {
		t.Errorf("second apply: exit %d, \"Plan: nothing to do\" %d times; want 0 and once",
			again.code, strings.Count(again.stdout, "Plan: nothing to do"))
	}
	// For a program, stdout is the JSON plan alone; the plan shown before
	// applying goes to stderr.
	j := w.cli("apply", "--format", "json")
	if j.code != 0 || !json.Valid([]byte(j.stdout)) || !strings.Contains(j.stderr, "Plan: nothing to do") {
		t.Errorf("apply --format json: exit %d, stdout valid JSON %v, plan on stderr %v; want 0, true, true",
			j.code, json.Valid([]byte(j.stdout)), strings.Contains(j.stderr, "Plan: nothing to do"))
	}
}

// fingerprintOf is the fingerprint of the workspace's plan now.
func fingerprintOf(t *testing.T, w *world) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plan.json")
	if r := w.cli("plan", "--out", out); r.code != 0 {
		t.Fatalf("plan --out: exit %d", r.code)
	}
	var p struct{ Fingerprint string }
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || p.Fingerprint == "" {
		t.Fatalf("read the plan's fingerprint: %v (%q)", err, p.Fingerprint)
	}
	return p.Fingerprint
}

// A batched re-read that AWS refuses (here for one snapshot among ten)
// does not fail the batch: each action re-reads on its own, and only the
// refused one fails.
func TestCLIApplyWhenABatchedRereadIsRefused(t *testing.T) {
	w := newWorld(t)
	w.writeConfig(defaultConfig + fastRetries)
	ids := w.oldSnapshots(10)
	denied := ids[4]
	p, _ := w.withFaults()
	p.SetRules(faults.Rule{Op: "DescribeSnapshots", IDs: []string{denied},
		Fault: faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")})

	out := filepath.Join(t.TempDir(), "applied.json")
	r := w.cli("apply", "--yes", "--out", out)
	if r.code != 3 {
		t.Errorf("apply: exit %d, want 3 (partial)", r.code)
	}
	var applied struct {
		Actions []struct{ ID, Status, Error string }
	}
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &applied)
	}
	if err != nil {
		t.Fatalf("read --out: %v", err)
	}
	if len(applied.Actions) != len(ids) {
		t.Fatalf("--out holds %d actions, want %d", len(applied.Actions), len(ids))
	}
	for _, a := range applied.Actions {
		want := "done"
		if a.ID == denied {
			want = "failed"
			if !strings.HasPrefix(a.Error, "UnauthorizedOperation: ") {
				t.Errorf("%s: error %q, want UnauthorizedOperation", a.ID, a.Error)
			}
		}
		if a.Status != want {
			t.Errorf("%s: %s %q, want %s", a.ID, a.Status, a.Error, want)
		}
		if gone := !w.exists(a.ID); gone != (want == "done") {
			t.Errorf("%s: %s, but deleted = %v", a.ID, a.Status, gone)
		}
	}
	// The listing, the refused batch of ten, then one re-read each.
	if n := w.rec.Count("DescribeSnapshots"); n != 1+1+len(ids) {
		t.Errorf("broom made %d DescribeSnapshots calls, want %d", n, 1+1+len(ids))
	}
}

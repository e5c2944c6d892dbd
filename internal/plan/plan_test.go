package plan

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func snap(id string) Action {
	return Action{Op: Delete, Kind: "ebs-snapshot", Account: "123456789012", Region: "us-east-1", ID: id, Rule: "old", Reason: "400 days old > 30d"}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a, b, c := snap("snap-a"), snap("snap-b"), snap("snap-c")
	base := Fingerprint([]Action{a, b, c})
	withReason := a
	withReason.Reason = "401 days old > 30d"
	withDetails := a
	withDetails.Details = map[string]string{"size": "8 GiB"}
	otherRegion := a
	otherRegion.Region = "eu-west-1"
	otherOp := a
	otherOp.Op = Tag
	tagA := a
	tagA.Op, tagA.Change = Tag, map[string]string{"Owner": "x"}
	tagB := a
	tagB.Op, tagB.Change = Tag, map[string]string{"Owner": "y"}

	tests := map[string]struct {
		actions []Action
		same    bool
	}{
		"same actions in another order":    {[]Action{c, a, b}, true},
		"reason wording is not part of it": {[]Action{withReason, b, c}, true},
		"details are not part of it":       {[]Action{withDetails, b, c}, true},
		"one action fewer":                 {[]Action{a, b}, false},
		"one action more":                  {[]Action{a, b, c, snap("snap-d")}, false},
		"another region":                   {[]Action{otherRegion, b, c}, false},
		"another op":                       {[]Action{otherOp, b, c}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Fingerprint(tc.actions)
			if (got == base) != tc.same {
				t.Errorf("Fingerprint = %s, base %s; want same=%v", got, base, tc.same)
			}
		})
	}
	if Fingerprint([]Action{tagA}) == Fingerprint([]Action{tagB}) {
		t.Error("tag actions with different desired tags share a fingerprint")
	}
	if len(base) != 64 || base != Fingerprint([]Action{a, b, c}) {
		t.Errorf("fingerprint %q is not a stable 64-hex digest", base)
	}
	if Fingerprint(nil) != Fingerprint([]Action{}) {
		t.Error("nil and empty plans differ")
	}
}

func TestNewSortsAndRoundTrips(t *testing.T) {
	t.Parallel()
	acts := []Action{snap("snap-b"), snap("snap-a")}
	acts[0].Region = "eu-west-1"
	p := New("prod", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), acts)
	if p.Actions[0].Region != "eu-west-1" || p.Actions[1].ID != "snap-a" {
		t.Fatalf("not in canonical order: %+v", p.Actions)
	}
	p.Actions[1].Status, p.Actions[1].Error = Failed, "UnauthorizedOperation"
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := len(back.Remaining()); got != 2 {
		t.Errorf("Remaining = %d, want 2 (one failed, one never run)", got)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["actions"].([]any)[0].(map[string]any)["op"] != "delete" {
		t.Errorf("op not written by name: %s", b)
	}
}

// The canonical order is (account, region, kind, id, op), then name: each
// key decides only when all before it are equal.
func TestSortOrder(t *testing.T) {
	t.Parallel()
	a := func(account, region, kind, id string, op Op, name string) Action {
		return Action{Account: account, Region: region, Kind: kind, ID: id, Op: op, Name: name}
	}
	want := []Action{
		a("111111111111", "us-east-1", "ami", "z", Tag, "z"),
		a("222222222222", "eu-west-1", "ami", "z", Tag, "z"),
		a("222222222222", "us-east-1", "ami", "z", Tag, "z"),
		a("222222222222", "us-east-1", "ebs-snapshot", "a", Tag, "z"),
		a("222222222222", "us-east-1", "ebs-snapshot", "b", Delete, "z"),
		a("222222222222", "us-east-1", "ebs-snapshot", "b", Update, "a"),
		a("222222222222", "us-east-1", "ebs-snapshot", "b", Update, "b"),
		a("222222222222", "us-east-1", "ebs-snapshot", "b", Tag, "a"),
	}
	for _, perm := range [][]int{{7, 6, 5, 4, 3, 2, 1, 0}, {3, 0, 6, 1, 7, 2, 5, 4}, {1, 0, 3, 2, 5, 4, 7, 6}} {
		got := make([]Action, len(want))
		for i, j := range perm {
			got[i] = want[j]
		}
		Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Sort of permutation %v (-want +got):\n%s", perm, diff)
		}
	}
}

func TestCountAndApplied(t *testing.T) {
	t.Parallel()
	act := func(op Op, status Status, usd float64) Action {
		return Action{Op: op, Status: status, MonthlyCostUSD: usd}
	}
	p := Plan{Actions: []Action{
		act(Delete, Done, 1.5), act(Delete, AlreadyDone, 2), act(Delete, Failed, 0.25),
		act(Tag, Skipped, 100), // only deletions and stops save money
		act(Create, Pending, 0), act(Update, Done, 0), act(Delete, Skipped, 0.25),
		act(Update, Pending, 0.5), // an instance's stop
	}}
	want := Counts{ByOp: map[Op]int{Delete: 4, Tag: 1, Create: 1, Update: 2},
		Done: 2, AlreadyDone: 1, Failed: 1, Skipped: 2, MonthlyCostUSD: 4.5}
	if diff := cmp.Diff(want, p.Count()); diff != "" {
		t.Errorf("Count (-want +got):\n%s", diff)
	}
	if !p.Applied() {
		t.Error("Applied() = false for a plan with results")
	}
	if (Plan{Actions: []Action{act(Delete, Pending, 0), act(Tag, Pending, 0)}}).Applied() {
		t.Error("Applied() = true for a plan never applied")
	}
	if (Plan{}).Applied() {
		t.Error("Applied() = true for an empty plan")
	}
}

func TestOpNames(t *testing.T) {
	t.Parallel()
	for op, name := range map[Op]string{Delete: "delete", Create: "create", Update: "update", Tag: "tag",
		Op(-1): "op(-1)", Op(4): "op(4)", Op(99): "op(99)"} {
		if got := op.String(); got != name {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, name)
		}
	}
	var o Op = Tag
	if err := o.UnmarshalText([]byte("nuke")); err == nil || o != Tag {
		t.Errorf("UnmarshalText(nuke) = %v, op now %v; want an error and the op unchanged", err, o)
	}
	if err := o.UnmarshalText([]byte("create")); err != nil || o != Create {
		t.Errorf("UnmarshalText(create) = %v, op %v; want create", err, o)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	a := Action{Account: "111111111111", Region: "us-east-1", Kind: "ami", ID: "ami-1", Op: Delete}
	if got, want := a.Key(), "111111111111/us-east-1/ami/ami-1/delete"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
}

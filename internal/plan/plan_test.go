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

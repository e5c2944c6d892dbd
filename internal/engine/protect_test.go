package engine

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// withSnapshots is r as an AMI-like kind reports it: what deleting it also
// deletes (plan.Resource.DeleteChange).
func withSnapshots(r plan.Resource, snaps string) plan.Resource {
	r.DeleteChange = map[string]string{"delete-snapshots": snaps}
	return r
}

func TestPlanPutsWhatADeleteTakesWithItInTheChange(t *testing.T) {
	t.Parallel()
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))
	planOf := func(snaps string) plan.Plan {
		t.Helper()
		r := withSnapshots(res("ami-1", 400*day, "Environment", "ci"), snaps)
		w := &world{Listed: map[string][]plan.Resource{"eu-west-1": {r}}}
		got, err := newEngine(w).Plan(t.Context(), cfg, account)
		if err != nil {
			t.Fatal(err)
		}
		return got.Plan
	}
	both, one := planOf("snap-a,snap-b"), planOf("snap-a")
	if diff := cmp.Diff(map[string]string{"delete-snapshots": "snap-a,snap-b"}, both.Actions[0].Change); diff != "" {
		t.Errorf("change (-want +got):\n%s", diff)
	}
	if both.Fingerprint == one.Fingerprint {
		t.Errorf("deleting snap-a and snap-b with the image has the fingerprint of deleting snap-a alone: %s", both.Fingerprint)
	}
}

func TestApplySkipsADeleteThatWouldTakeOtherThanPlanned(t *testing.T) {
	t.Parallel()
	ci := func(snaps string) plan.Resource {
		return withSnapshots(res("ami-1", 400*day, "Environment", "ci"), snaps)
	}
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))
	p := planFor("ami-1")
	p.Actions[0].Change = map[string]string{"delete-snapshots": "snap-a,snap-b"}
	tests := map[string]struct {
		now     plan.Resource
		want    []result
		wantDid []string
	}{
		"as planned: done": {
			now:     ci("snap-a,snap-b"),
			want:    []result{{"ami-1", plan.Done, ""}},
			wantDid: []string{"ami-1"},
		},
		"a snapshot kept since the plan: skipped": {
			now:  ci("snap-a"),
			want: []result{{"ami-1", plan.Skipped, `no longer planned: delete-snapshots changed since the plan: planned "snap-a,snap-b", now "snap-a"`}},
		},
		"the re-read names no snapshots at all: skipped": {
			now:  res("ami-1", 400*day, "Environment", "ci"),
			want: []result{{"ami-1", plan.Skipped, `no longer planned: delete-snapshots changed since the plan: planned "snap-a,snap-b", now ""`}},
		},
		"a snapshot no longer kept: skipped, never deleted unapproved": {
			now:  ci("snap-a,snap-b,snap-c"),
			want: []result{{"ami-1", plan.Skipped, `no longer planned: delete-snapshots changed since the plan: planned "snap-a,snap-b", now "snap-a,snap-b,snap-c"`}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, batched := range []bool{false, true} {
				w := &world{Current: map[string]plan.Resource{"ami-1": tc.now}}
				e := newEngine(w)
				if batched {
					e = newBatchEngine(w)
				}
				got := e.Apply(t.Context(), cfg, p)
				if diff := cmp.Diff(tc.want, results(got)); diff != "" {
					t.Errorf("batched %v: results (-want +got):\n%s", batched, diff)
				}
				if diff := cmp.Diff(tc.wantDid, w.calls()); diff != "" {
					t.Errorf("batched %v: Do calls (-want +got):\n%s", batched, diff)
				}
			}
		})
	}
}

func TestApplySkipsWhatTheKindFindsChanged(t *testing.T) {
	t.Parallel()
	w := &world{
		Current: map[string]plan.Resource{"ami-1": res("ami-1", 400*day, "Environment", "ci")},
		DoErr:   map[string]error{"ami-1": fmt.Errorf("image ami-1: snapshot snap-a is kept now: %w", resource.ErrChanged)},
	}
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))
	got := newEngine(w).Apply(t.Context(), cfg, planFor("ami-1"))
	want := []result{{"ami-1", plan.Skipped, "no longer planned: image ami-1: snapshot snap-a is kept now: changed since the plan"}}
	if diff := cmp.Diff(want, results(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

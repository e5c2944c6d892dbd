package engine

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// newMoveEngine is an engine whose one kind, over w, moves resources
// (Spec.Moves) as ec2-instance's stop does: an update to "stopped". Its Do
// leaves the resource stopped.
func newMoveEngine(w *world) *Engine {
	w.afterDo = func(w *world, id string) {
		r := w.Listed["eu-west-1"][0]
		for _, l := range w.Listed["eu-west-1"] {
			if l.ID == id {
				r = l
			}
		}
		r.State = "stopped"
		w.Current[id] = r
	}
	spec := resource.Spec{
		Name:    "ec2-instance",
		Actions: map[string][]string{"stop": {"older-than"}},
		Moves:   map[string]string{"stop": "stopped"},
		New:     func(env resource.Env) resource.Kind { return &fakeKind{w: w, region: env.AWS.Region} },
	}
	lookup := func(name string) (resource.Spec, error) {
		if name == spec.Name {
			return spec, nil
		}
		return resource.Spec{}, fmt.Errorf("unknown resource kind %q", name)
	}
	load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
	return New(slog.New(slog.DiscardHandler), load, WithKinds(lookup), WithClock(func() time.Time { return now }))
}

// TestMove plans a move as an update to its state, leaves what is there
// already, and at apply re-reads and re-checks it as a delete is: vetoed
// or protected since the plan, it is skipped; moved already, it is done.
func TestMove(t *testing.T) {
	t.Parallel()
	inst := func(id, state, inUse string) plan.Resource {
		r := res(id, 400*day)
		r.State, r.InUse = state, inUse
		return r
	}
	running, stopped, vetoed := inst("i-run", "running", ""), inst("i-stopped", "stopped", ""), inst("i-veto", "running", "spot instance")
	stop := config.Rule{Name: "stop-old", Resource: "ec2-instance", Action: "stop", Where: config.Where{OlderThan: 30 * day}}
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, stop)
	planned := func(t *testing.T, w *world) plan.Plan {
		t.Helper()
		got, err := newMoveEngine(w).Plan(t.Context(), cfg, account)
		if err != nil {
			t.Fatal(err)
		}
		type moved struct {
			ID, Op string
			Change map[string]string
			USD    float64
		}
		var acts []moved
		for _, a := range got.Plan.Actions {
			acts = append(acts, moved{a.ID, a.Op.String(), a.Change, a.MonthlyCostUSD})
		}
		want := []moved{{"i-run", "update", map[string]string{"state": "stopped"}, 0.05}}
		if diff := cmp.Diff(want, acts); diff != "" {
			t.Errorf("plan (-want +got), want the running one alone, its saving shown:\n%s", diff)
		}
		if len(got.Protected) != 1 || got.Protected[0].ID != "i-veto" || got.Protected[0].Op != plan.Update {
			t.Errorf("left alone %v, want i-veto (update)", got.Protected)
		}
		return got.Plan
	}
	world := func() *world {
		return &world{Listed: map[string][]plan.Resource{"eu-west-1": {running, stopped, vetoed}},
			Current: map[string]plan.Resource{"i-run": running, "i-stopped": stopped, "i-veto": vetoed}}
	}

	t.Run("applied, then already done", func(t *testing.T) {
		t.Parallel()
		w := world()
		p := planned(t, w)
		e := newMoveEngine(w)
		if got := statusOf(e.Apply(t.Context(), cfg, p), "i-run"); got != plan.Done {
			t.Errorf("apply: %s, want done", got)
		}
		if got := statusOf(e.Apply(t.Context(), cfg, p), "i-run"); got != plan.AlreadyDone {
			t.Errorf("second apply: %s, want already-done", got)
		}
		if diff := cmp.Diff([]string{"i-run"}, w.calls()); diff != "" {
			t.Errorf("Do calls (-want +got):\n%s", diff)
		}
	})
	for name, since := range map[string]plan.Resource{
		"vetoed since the plan":    inst("i-run", "running", "termination protection is on"),
		"protected since the plan": func() plan.Resource { r := running; r.Tags = map[string]string{"broom:keep": "1"}; return r }(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := world()
			p := planned(t, w)
			w.Current["i-run"] = since
			if got := statusOf(newMoveEngine(w).Apply(t.Context(), cfg, p), "i-run"); got != plan.Skipped {
				t.Errorf("apply: %s, want skipped", got)
			}
			if got := w.calls(); len(got) != 0 {
				t.Errorf("Do called for %v", got)
			}
		})
	}
}

func statusOf(p plan.Plan, id string) plan.Status {
	for _, a := range p.Actions {
		if a.ID == id {
			return a.Status
		}
	}
	return ""
}

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// convergeKind is fakeKind with the kind's own Converge: a resource of
// tier "archive" is left alone, and the change saves 2 USD.
type convergeKind struct{ fakeKind }

func (convergeKind) Converge(r plan.Resource, set map[string]string) resource.Converged {
	change := map[string]string{}
	for k, v := range set {
		if r.Settings[k] != v {
			change[k] = v
		}
	}
	switch {
	case len(change) == 0:
		return resource.Converged{}
	case r.Settings["tier"] == "archive":
		return resource.Converged{Change: change, Why: "tier archive: never changed"}
	}
	return resource.Converged{Change: change, MonthlyCostUSD: 2}
}

// newUpdateEngine is an engine whose one kind, over w, takes update rules
// (with the kind's Converge when converger). Its Do makes the resource's
// settings what set says.
func newUpdateEngine(w *world, converger bool, set map[string]string) *Engine {
	w.afterDo = func(w *world, id string) {
		for _, l := range w.Listed["eu-west-1"] {
			if l.ID == id {
				l.Settings = maps.Clone(l.Settings)
				maps.Copy(l.Settings, set)
				w.Current[id] = l
			}
		}
	}
	spec := resource.Spec{
		Name:    "log-thing",
		Actions: map[string][]string{"update": {"older-than", "set"}},
		New: func(env resource.Env) resource.Kind {
			if converger {
				return &convergeKind{fakeKind{w: w, region: env.AWS.Region}}
			}
			return &fakeKind{w: w, region: env.AWS.Region}
		},
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

func withSettings(id string, settings map[string]string, tags ...string) plan.Resource {
	r := res(id, 400*day, tags...)
	r.Settings = settings
	return r
}

func updateRule(set map[string]string) config.Rule {
	return config.Rule{Name: "converge", Resource: "log-thing", Action: "update", Set: set}
}

// TestUpdate: an update rule plans, per resource it matches, the settings
// of its set that differ, and nothing for one already as set; apply
// re-reads and judges again: done, then already done; as set since the
// plan, already done without acting; changing other than planned, or
// protected since the plan, skipped.
func TestUpdate(t *testing.T) {
	t.Parallel()
	set := map[string]string{"tier": "hot", "retention": "7"}
	partly := withSettings("t-partly", map[string]string{"tier": "hot", "retention": "30"})
	already := withSettings("t-already", map[string]string{"tier": "hot", "retention": "7"})
	kept := withSettings("t-kept", map[string]string{"tier": "cold"}, "broom:keep", "1")
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, updateRule(set))
	fresh := func() *world {
		return &world{Listed: map[string][]plan.Resource{"eu-west-1": {partly, already, kept}},
			Current: map[string]plan.Resource{partly.ID: partly, already.ID: already, kept.ID: kept}}
	}
	planned := func(t *testing.T, w *world) plan.Plan {
		t.Helper()
		got, err := newUpdateEngine(w, false, set).Plan(t.Context(), cfg, account)
		if err != nil {
			t.Fatal(err)
		}
		type updated struct {
			ID, Op string
			Change map[string]string
		}
		var acts []updated
		for _, a := range got.Plan.Actions {
			acts = append(acts, updated{a.ID, a.Op.String(), a.Change})
		}
		want := []updated{{"t-partly", "update", map[string]string{"retention": "7"}}}
		if diff := cmp.Diff(want, acts); diff != "" {
			t.Errorf("plan (-want +got), want only the differing setting of the one not as set:\n%s", diff)
		}
		if len(got.Protected) != 1 || got.Protected[0].ID != "t-kept" || got.Protected[0].Op != plan.Update {
			t.Errorf("left alone %v, want t-kept (update)", got.Protected)
		}
		return got.Plan
	}

	t.Run("applied, then already done", func(t *testing.T) {
		t.Parallel()
		w := fresh()
		p := planned(t, w)
		e := newUpdateEngine(w, false, set)
		if got := statusOf(e.Apply(t.Context(), cfg, p), "t-partly"); got != plan.Done {
			t.Errorf("apply: %s, want done", got)
		}
		if got := statusOf(e.Apply(t.Context(), cfg, p), "t-partly"); got != plan.AlreadyDone {
			t.Errorf("second apply: %s, want already-done", got)
		}
		if diff := cmp.Diff([]string{"t-partly"}, w.calls()); diff != "" {
			t.Errorf("Do calls (-want +got):\n%s", diff)
		}
	})
	for name, tc := range map[string]struct {
		since plan.Resource
		want  plan.Status
	}{
		"as set since the plan":    {withSettings("t-partly", map[string]string{"tier": "hot", "retention": "7"}), plan.AlreadyDone},
		"changing more since":      {withSettings("t-partly", map[string]string{"tier": "cold", "retention": "30"}), plan.Skipped},
		"protected since the plan": {withSettings("t-partly", partly.Settings, "broom:keep", "1"), plan.Skipped},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := fresh()
			p := planned(t, w)
			w.Current["t-partly"] = tc.since
			if got := statusOf(newUpdateEngine(w, false, set).Apply(t.Context(), cfg, p), "t-partly"); got != tc.want {
				t.Errorf("apply: %s, want %s", got, tc.want)
			}
			if got := w.calls(); len(got) != 0 {
				t.Errorf("Do called for %v", got)
			}
		})
	}
}

// TestUpdateFingerprintCoversTheChange: two plans that differ only in
// the value an update sets have different fingerprints.
func TestUpdateFingerprintCoversTheChange(t *testing.T) {
	t.Parallel()
	fingerprint := func(retention string) string {
		w := &world{Listed: map[string][]plan.Resource{"eu-west-1": {withSettings("t-1", map[string]string{"retention": "30"})}}}
		cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, updateRule(map[string]string{"retention": retention}))
		got, err := newUpdateEngine(w, false, nil).Plan(t.Context(), cfg, account)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Plan.Actions) != 1 {
			t.Fatalf("plan %v, want one update", got.Plan.Actions)
		}
		return got.Plan.Fingerprint
	}
	if a, b := fingerprint("7"), fingerprint("14"); a == b {
		t.Errorf("fingerprint %s for retention 7 and for 14: want the change in it", a)
	}
}

// TestUpdateConverger: a kind's Converge decides the change, its saving,
// and why a resource is left alone, at plan and again at apply.
func TestUpdateConverger(t *testing.T) {
	t.Parallel()
	hot := map[string]string{"tier": "hot"}
	cold := withSettings("t-cold", map[string]string{"tier": "cold"})
	archive := withSettings("t-archive", map[string]string{"tier": "archive"})
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{}, updateRule(hot))
	w := &world{Listed: map[string][]plan.Resource{"eu-west-1": {cold, archive}},
		Current: map[string]plan.Resource{cold.ID: cold, archive.ID: archive}}
	got, err := newUpdateEngine(w, true, hot).Plan(t.Context(), cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Plan.Actions) != 1 || got.Plan.Actions[0].ID != "t-cold" || got.Plan.Actions[0].MonthlyCostUSD != 2 ||
		!cmp.Equal(got.Plan.Actions[0].Change, hot) {
		t.Errorf("plan %+v, want t-cold's update to tier hot, saving 2", got.Plan.Actions)
	}
	if len(got.Protected) != 1 || got.Protected[0].ID != "t-archive" || got.Protected[0].Reason != "tier archive: never changed" {
		t.Errorf("left alone %+v, want t-archive with the kind's reason", got.Protected)
	}
	w.Current["t-cold"] = withSettings("t-cold", map[string]string{"tier": "archive"}) // since the plan
	applied := newUpdateEngine(w, true, hot).Apply(t.Context(), cfg, got.Plan)
	if a := applied.Actions[0]; a.Status != plan.Skipped || a.Error != "no longer planned: tier archive: never changed" {
		t.Errorf("apply of what the kind now leaves alone: %s %q, want skipped with its reason", a.Status, a.Error)
	}
	if got := w.calls(); len(got) != 0 {
		t.Errorf("Do called for %v", got)
	}
}

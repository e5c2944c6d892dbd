package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// panicKind is fakeKind with a bug: it panics listing in one region, or
// acting on (or batch re-reading) one id.
type panicKind struct {
	batchKind
	listIn, doOn string
	getMany      bool
}

func (k *panicKind) List(ctx context.Context) ([]plan.Resource, error) {
	if k.region == k.listIn {
		panic("index out of range listing")
	}
	return k.fakeKind.List(ctx)
}

func (k *panicKind) Do(ctx context.Context, a plan.Action) error {
	if a.ID == k.doOn {
		panic("nil map in Do")
	}
	return k.fakeKind.Do(ctx, a)
}

func (k *panicKind) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	if k.getMany {
		panic("nil map in GetMany")
	}
	return k.batchKind.GetMany(ctx, ids)
}

// A panic in a kind runs in one of the engine's goroutines, where nothing
// above could recover it: the engine turns it into that listing's error or
// that action's failure, so the run still reports (SPEC §9).
func TestAKindsPanicIsItsOwnFailure(t *testing.T) {
	t.Parallel()
	w := &world{Listed: map[string][]plan.Resource{"us-east-1": {res("snap-1", 90*24*time.Hour), res("snap-2", 90*24*time.Hour)}}}
	w.Current = map[string]plan.Resource{"snap-1": w.Listed["us-east-1"][0], "snap-2": w.Listed["us-east-1"][1]}
	cfg := cfgWith([]string{"us-east-1", "eu-west-1"}, config.Protect{}, rule("old", 30*24*time.Hour))
	build := func(k panicKind) *Engine {
		return newEngineOf(func(env resource.Env) resource.Kind {
			// One kind per listing, as the engine builds them: a shared
			// one would take the region of whichever listing built it last.
			each := k
			each.batchKind = batchKind{fakeKind{w: w, region: env.AWS.Region}}
			return &each
		})
	}

	if _, err := build(panicKind{listIn: "eu-west-1"}).Plan(t.Context(), cfg, "123456789012"); err == nil ||
		!strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), "index out of range listing") {
		t.Errorf("Plan with a kind that panics: err = %v, want an internal error naming the panic", err)
	}

	cfg.Regions = []string{"us-east-1"}
	e := build(panicKind{doOn: "snap-1", getMany: true})
	res, err := e.Plan(t.Context(), cfg, "123456789012")
	if err != nil || len(res.Plan.Actions) != 2 {
		t.Fatalf("Plan: %v, %d actions; want 2", err, len(res.Plan.Actions))
	}
	got := e.Apply(t.Context(), cfg, res.Plan)
	status := map[string]plan.Action{}
	for _, a := range got.Actions {
		status[a.ID] = a
	}
	if a := status["snap-1"]; a.Status != plan.Failed || !strings.Contains(a.Error, "nil map in Do") {
		t.Errorf("snap-1: %s %q, want failed with the panic", a.Status, a.Error)
	}
	if a := status["snap-2"]; a.Status != plan.Done {
		t.Errorf("snap-2: %s %q, want done: one action's panic stops no other (its batch re-read panicked too)", a.Status, a.Error)
	}
}

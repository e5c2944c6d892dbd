package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// gatedKind deletes a resource when its gate opens, or gives up with its
// context, as an SDK call does; started says when each Do begins.
type gatedKind struct {
	fakeKind
	gate    chan struct{}
	started chan string
}

func (k *gatedKind) Do(ctx context.Context, a plan.Action) error {
	k.started <- a.ID
	select {
	case <-k.gate:
	case <-ctx.Done():
		return fmt.Errorf("delete snapshot %s: %w", a.ID, ctx.Err())
	}
	k.w.mu.Lock()
	defer k.w.mu.Unlock()
	k.w.did = append(k.w.did, a.ID)
	delete(k.w.Current, a.ID)
	return nil
}

func newGatedEngine(w *world, k *gatedKind, opts ...Option) *Engine {
	spec := resource.Spec{Name: kind, New: func(env resource.Env) resource.Kind {
		k.fakeKind = fakeKind{w: w, region: env.AWS.Region}
		return k
	}}
	lookup := func(string) (resource.Spec, error) { return spec, nil }
	load := func(_ context.Context, _, region string) (aws.Config, error) { return aws.Config{Region: region}, nil }
	opts = append([]Option{WithKinds(lookup), WithClock(func() time.Time { return now })}, opts...)
	return New(slog.New(slog.DiscardHandler), load, opts...)
}

var faultCfg = cfgWith([]string{"eu-west-1"}, config.Protect{}, rule("old-ci", 30*day, "Environment", "ci"))

// A cancelled run lets the actions in flight finish, starts no other, and
// accounts for every action: done, or skipped and still there.
func TestApplyCancelledMidwayFinishesInFlightAndSkipsTheRest(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(10)
	k := &gatedKind{gate: make(chan struct{}), started: make(chan string, len(ids))}
	ctx, cancel := context.WithCancel(t.Context())
	var got plan.Plan
	var wg sync.WaitGroup
	wg.Go(func() { got = newGatedEngine(w, k, WithWorkers(3)).Apply(ctx, faultCfg, planFor(ids...)) })
	for range 3 { // all three workers busy
		<-k.started
	}
	cancel()
	// Opening the gate frees workers, but an action that gets one after the
	// cancellation is skipped all the same.
	close(k.gate)
	wg.Wait()

	count := map[plan.Status]int{}
	for _, a := range got.Actions {
		count[a.Status]++
		_, exists := w.Current[a.ID]
		switch a.Status {
		case plan.Done:
			if exists {
				t.Errorf("%s reported done but still exists", a.ID)
			}
		case plan.Skipped:
			if !exists {
				t.Errorf("%s reported skipped but was deleted", a.ID)
			}
			if a.Error != "run cancelled before this action started" {
				t.Errorf("%s skipped with %q", a.ID, a.Error)
			}
		default:
			t.Errorf("%s: status %s %q, want done or skipped", a.ID, a.Status, a.Error)
		}
	}
	if count[plan.Done] != 3 || count[plan.Skipped] != 7 {
		t.Errorf("statuses %v, want the 3 in flight done and 7 skipped", count)
	}
}

// An action still in flight cancelGrace after the cancellation is cut off:
// failed, saying so, and Apply returns in time for the report.
func TestApplyCutsOffActionsStillInFlightAfterTheGrace(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(4)
	k := &gatedKind{gate: make(chan struct{}), started: make(chan string, len(ids))} // never opens
	ctx, cancel := context.WithCancel(t.Context())
	e := newGatedEngine(w, k, WithWorkers(2))
	graces, graceOver := make(chan time.Duration, 2), make(chan time.Time)
	e.after = func(d time.Duration) <-chan time.Time {
		graces <- d
		return graceOver
	}
	var got plan.Plan
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = e.Apply(ctx, faultCfg, planFor(ids...))
	}()
	<-k.started
	<-k.started
	cancel()
	for range 2 { // each action in flight starts its grace
		if d := <-graces; d != cancelGrace {
			t.Errorf("grace %v, want %v", d, cancelGrace)
		}
	}
	select {
	case <-done:
		t.Fatal("Apply returned before the grace of the actions in flight ran out")
	default:
	}
	close(graceOver)
	<-done
	for i, a := range got.Actions {
		switch {
		case i < 2 && (a.Status != plan.Failed || !strings.HasPrefix(a.Error, "outcome unknown: cut off 5s after the run was cancelled")):
			t.Errorf("%s in flight: %s %q, want failed, cut off", a.ID, a.Status, a.Error)
		case i >= 2 && a.Status != plan.Skipped:
			t.Errorf("%s not started: %s %q, want skipped", a.ID, a.Status, a.Error)
		}
	}
}

// An action that completes although its time ran out (the call got through
// as it was cut off) is done, with no "outcome unknown": that is said only
// of an action that failed.
func TestApplyDoneAfterTheCutOffSaysNothingUnknown(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(1)
	k := &lateKind{started: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	e := newEngineOf(func(env resource.Env) resource.Kind {
		k.fakeKind = fakeKind{w: w, region: env.AWS.Region}
		return k
	})
	graceOver := make(chan time.Time)
	e.after = func(time.Duration) <-chan time.Time { return graceOver }
	done := make(chan plan.Plan)
	go func() { done <- e.Apply(ctx, faultCfg, planFor(ids...)) }()
	<-k.started
	cancel()
	close(graceOver)
	got := <-done
	if diff := cmp.Diff([]result{{ids[0], plan.Done, ""}}, results(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// lateKind's Do finishes its delete only once its context is cut off.
type lateKind struct {
	fakeKind
	started chan struct{}
}

func (k *lateKind) Do(ctx context.Context, a plan.Action) error {
	close(k.started)
	<-ctx.Done()
	return k.fakeKind.Do(context.Background(), a)
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// deleterKind is batchKind deleting in batches, as ecr-image does: the
// ids G-… of one G go together. DeleteMany records each call's ids, runs
// hook if set, and answers each id as fakeKind.Do does, leaving out those
// whose DoErr is errNoAnswer; once its context is done, it fails each, as
// an SDK call does. onGet, if set, runs at each Get.
type deleterKind struct {
	batchKind
	hook  func(ctx context.Context, ids []string)
	onGet func(id string)
}

func (k *deleterKind) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	if k.onGet != nil {
		k.onGet(id)
	}
	return k.batchKind.Get(ctx, id)
}

var _ resource.BatchDeleter = (*deleterKind)(nil)

var errNoAnswer = errors.New("left out of the answer")

func (k *deleterKind) BatchKey(a plan.Action) string {
	group, _, _ := strings.Cut(a.ID, "-")
	return group
}

func (k *deleterKind) DeleteMany(ctx context.Context, actions []plan.Action) map[string]error {
	var ids []string
	for _, a := range actions {
		ids = append(ids, a.ID)
	}
	k.w.mu.Lock()
	k.w.deleted = append(k.w.deleted, ids)
	k.w.mu.Unlock()
	if k.hook != nil {
		k.hook(ctx, ids)
	}
	out := map[string]error{}
	for _, a := range actions {
		if err := ctx.Err(); err != nil {
			out[a.ID] = fmt.Errorf("delete %s: %w", a.ID, err)
			continue
		}
		if k.w.DoErr[a.ID] != errNoAnswer {
			out[a.ID] = k.fakeKind.Do(ctx, a)
		}
	}
	return out
}

// newDeleterEngine is newEngine with a kind that deletes in batches.
func newDeleterEngine(w *world, opts ...Option) *Engine {
	return newDeleterEngineOf(w, nil, opts...)
}

func newDeleterEngineOf(w *world, hook func(context.Context, []string), opts ...Option) *Engine {
	return newDeleterEngineWith(w, deleterKind{hook: hook}, opts...)
}

// newDeleterEngineWith builds each kind from k, over w.
func newDeleterEngineWith(w *world, k deleterKind, opts ...Option) *Engine {
	return newEngineOf(func(env resource.Env) resource.Kind {
		k := k
		k.batchKind = batchKind{fakeKind{w: w, region: env.AWS.Region}}
		return &k
	}, opts...)
}

// sizes is the length of each of ids.
func sizes(ids [][]string) []int {
	var out []int
	for _, b := range ids {
		out = append(out, len(b))
	}
	return out
}

// Deletes of a kind that deletes in batches go to it DeleteBatch at a
// time, one group each (ECR: one repository), and each re-read batch is
// the delete batch: ⌈n/100⌉ calls for each group, however they line up.
func TestApplyDeletesInBatchesOfOneGroup(t *testing.T) {
	t.Parallel()
	w := &world{Current: map[string]plan.Resource{}}
	var ids []string
	for group, n := range map[string]int{"a": 2*resource.DeleteBatch + 50, "b": 30} {
		for i := range n {
			id := fmt.Sprintf("%s-%03d", group, i)
			ids = append(ids, id)
			w.Current[id] = res(id, 400*day, "Environment", "ci")
		}
	}
	got := newDeleterEngine(w).Apply(t.Context(), faultCfg, planFor(ids...))
	for _, r := range results(got) {
		if r.Status != plan.Done {
			t.Errorf("%s: %s %q, want done", r.ID, r.Status, r.Error)
		}
	}
	want := []int{resource.DeleteBatch, resource.DeleteBatch, 50, 30}
	// Batches run in parallel: their calls come in any order.
	if diff := cmp.Diff(want, sizes(w.deleted), cmpopts.SortSlices(func(a, b int) bool { return a > b })); diff != "" {
		t.Errorf("DeleteMany sizes (-want +got):\n%s", diff)
	}
	for _, call := range w.deleted {
		if g := call[0][:1]; !strings.HasPrefix(call[len(call)-1], g) {
			t.Errorf("DeleteMany call %v spans groups", call)
		}
	}
	if diff := cmp.Diff(want, sizes(w.batches)); diff != "" {
		t.Errorf("GetMany sizes (-want +got):\n%s", diff)
	}
	if w.gets != 0 || len(w.did) != len(ids) {
		t.Errorf("Get calls %d, deletes %d; want 0 and %d", w.gets, len(w.did), len(ids))
	}
}

// Each action of a batch is judged on its own and gets its own outcome:
// what the re-check leaves out is in no call; an id the kind does not
// answer fails, saying so.
func TestApplyBatchDeleteOutcomes(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(5)
	r := w.Current[ids[1]]
	r.Tags = map[string]string{"Environment": "ci", "broom:keep": "yes"}
	w.Current[ids[1]] = r
	delete(w.Current, ids[2])
	w.DoErr = map[string]error{
		ids[3]: errNoAnswer,
		ids[4]: fmt.Errorf("delete image %s: ImageReferencedByManifestList: referenced", ids[4]),
	}
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, rule("old-ci", 30*day, "Environment", "ci"))
	got := newDeleterEngine(w).Apply(t.Context(), cfg, planFor(ids...))
	want := []result{
		{ids[0], plan.Done, ""},
		{ids[1], plan.Skipped, "no longer planned: protected: tag broom:keep=yes"},
		{ids[2], plan.AlreadyDone, ""},
		{ids[3], plan.Failed, "internal error (a bug in broom, please report it): no outcome for snap-003 from the batch delete"},
		{ids[4], plan.Failed, "delete image snap-004: ImageReferencedByManifestList: referenced"},
	}
	if diff := cmp.Diff(want, results(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{ids[0], ids[3], ids[4]}}, w.deleted); diff != "" {
		t.Errorf("DeleteMany calls (-want +got):\n%s", diff)
	}
}

// A batch's call gets a single action's time: actionTimeout.
func TestApplyBatchDeleteHasTheActionTimeout(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(3)
	var left time.Duration
	e := newDeleterEngineOf(w, func(ctx context.Context, _ []string) {
		if dl, ok := ctx.Deadline(); ok {
			left = time.Until(dl)
		}
	})
	e.actionTimeout = time.Minute
	got := e.Apply(t.Context(), faultCfg, planFor(ids...))
	if left <= 0 || left > time.Minute {
		t.Errorf("DeleteMany's time left = %v, want at most the action timeout, 1m", left)
	}
	if c := got.Count(); c.Done != 3 {
		t.Errorf("done %d, want 3", c.Done)
	}
}

// A cancelled run finishes the batch in flight and starts no other; a
// batch in flight when its grace runs out is cut off, its outcome unknown.
func TestApplyCancelledWithBatchDeletes(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		finish bool // the call in flight ends within its grace
		first  func(id string) result
	}{
		"in flight finishes": {finish: true, first: func(id string) result { return result{id, plan.Done, ""} }},
		"in flight is cut off": {first: func(id string) result {
			return result{id, plan.Failed, "outcome unknown: cut off 5s after the run was cancelled; the next run re-checks it: delete " + id + ": context canceled"}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := &world{Current: map[string]plan.Resource{}}
			ids := []string{"a-1", "a-2", "b-1", "b-2"}
			for _, id := range ids {
				w.Current[id] = res(id, 400*day, "Environment", "ci")
			}
			started, gate := make(chan struct{}, 1), make(chan struct{})
			hook := func(ctx context.Context, _ []string) {
				started <- struct{}{}
				select {
				case <-gate:
				case <-ctx.Done():
				}
			}
			e := newDeleterEngineOf(w, hook, WithWorkers(1))
			graceOver := make(chan time.Time)
			e.after = func(time.Duration) <-chan time.Time { return graceOver }
			ctx, cancel := context.WithCancel(t.Context())
			var got plan.Plan
			var wg sync.WaitGroup
			wg.Go(func() { got = e.Apply(ctx, faultCfg, planFor(ids...)) })
			<-started
			cancel()
			if tc.finish {
				close(gate)
			} else {
				close(graceOver)
			}
			wg.Wait()
			want := []result{tc.first("a-1"), tc.first("a-2"), {"b-1", plan.Skipped, notStarted}, {"b-2", plan.Skipped, notStarted}}
			if diff := cmp.Diff(want, results(got)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([][]string{{"a-1", "a-2"}}, w.deleted); diff != "" {
				t.Errorf("DeleteMany calls (-want +got):\n%s", diff)
			}
		})
	}
}

// A run cancelled while a batch's actions are judged deletes none of
// them: the rest are not judged, and those approved are not sent.
func TestApplyCancelledWhileABatchIsJudged(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(3)
	// snap-002's read fails, and with it the batch's: each action
	// re-reads on its own, and the first one's read cancels the run.
	w.GetErr = map[string]error{ids[2]: errors.New("read failed")}
	ctx, cancel := context.WithCancel(t.Context())
	e := newDeleterEngineWith(w, deleterKind{onGet: func(string) { cancel() }})
	got := e.Apply(ctx, faultCfg, planFor(ids...))
	want := []result{{ids[0], plan.Skipped, notStarted}, {ids[1], plan.Skipped, notStarted}, {ids[2], plan.Skipped, notStarted}}
	if diff := cmp.Diff(want, results(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if w.deleted != nil || w.gets != 1 {
		t.Errorf("DeleteMany calls %v, Get calls %d; want none and 1", w.deleted, w.gets)
	}
}

// A panic in DeleteMany (a bug in the kind) fails the actions of its call
// and no other.
func TestApplyBatchDeletePanicFailsItsCall(t *testing.T) {
	t.Parallel()
	w := &world{Current: map[string]plan.Resource{}}
	ids := []string{"a-1", "a-2", "b-1"}
	for _, id := range ids {
		w.Current[id] = res(id, 400*day, "Environment", "ci")
	}
	got := newDeleterEngineOf(w, func(_ context.Context, ids []string) {
		if ids[0] == "a-1" {
			panic("nil map in DeleteMany")
		}
	}).Apply(t.Context(), faultCfg, planFor(ids...))
	bug := "internal error (a bug in broom, please report it): nil map in DeleteMany"
	want := []result{{"a-1", plan.Failed, bug}, {"a-2", plan.Failed, bug}, {"b-1", plan.Done, ""}}
	if diff := cmp.Diff(want, results(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

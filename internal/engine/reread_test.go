package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

func ciWorld(n int) (*world, []string) {
	w := &world{Current: map[string]plan.Resource{}}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("snap-%03d", i)
		ids = append(ids, id)
		w.Current[id] = res(id, 400*day, "Environment", "ci")
	}
	return w, ids
}

// A kind that re-reads in batches is asked once per RereadBatch actions,
// each id once, and never one by one.
func TestApplyRereadsInBatches(t *testing.T) {
	t.Parallel()
	n := 2*resource.RereadBatch + 50
	w, ids := ciWorld(n)
	got := newBatchEngine(w).Apply(t.Context(), faultCfg, planFor(ids...))
	for _, r := range results(got) {
		if r.Status != plan.Done {
			t.Errorf("%s: %s %q, want done", r.ID, r.Status, r.Error)
		}
	}
	var sizes []int
	var asked []string
	for _, b := range w.batches {
		sizes = append(sizes, len(b))
		asked = append(asked, b...)
	}
	if diff := cmp.Diff([]int{resource.RereadBatch, resource.RereadBatch, 50}, sizes); diff != "" {
		t.Errorf("GetMany batch sizes (-want +got):\n%s", diff)
	}
	slices.Sort(asked)
	if diff := cmp.Diff(ids, asked); diff != "" {
		t.Errorf("ids re-read (-want +got):\n%s", diff)
	}
	if w.gets != 0 {
		t.Errorf("Get called %d times, want 0: every re-read batched", w.gets)
	}
}

// A batched re-read older than the engine's freshness is read again before
// its action starts, so a resource protected meanwhile is left alone.
func TestApplyRereadsAgainWhenTheBatchIsStale(t *testing.T) {
	t.Parallel()
	w, ids := ciWorld(3)
	w.DoDelay = 60 * time.Millisecond
	w.afterDo = func(w *world, id string) {
		if id == "snap-000" {
			r := w.Current["snap-001"]
			r.Tags = map[string]string{"Environment": "ci", "broom:keep": "yes"}
			w.Current["snap-001"] = r
		}
	}
	cfg := cfgWith([]string{"eu-west-1"}, config.Protect{Tags: map[string]string{"broom:keep": "*"}}, rule("old-ci", 30*day, "Environment", "ci"))
	e := newBatchEngine(w, WithWorkers(1))
	e.fresh = 20 * time.Millisecond
	got := e.Apply(t.Context(), cfg, planFor(ids...))

	want := []result{
		{"snap-000", plan.Done, ""},
		{"snap-001", plan.Skipped, "no longer planned: protected: tag broom:keep=yes"},
		{"snap-002", plan.Done, ""},
	}
	if diff := cmp.Diff(want, results(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	// snap-001 is skipped at once, so snap-002's second read is still fresh.
	wantBatches := [][]string{ids, ids[1:]}
	if diff := cmp.Diff(wantBatches, w.batches); diff != "" {
		t.Errorf("GetMany batches (-want +got):\n%s", diff)
	}
}
